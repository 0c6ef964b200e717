// Lint rules. The import direction of the layers is an allow-list in eslint/layers.mjs
// (README "Architecture"); test/layering.test.ts checks that a probe breaking each rule fails.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import layers from './eslint/layers.mjs';

const root = dirname(fileURLToPath(import.meta.url));

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'coverage/**', 'test-results/**', '.tmp/**', '.electron-native/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { layers },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'layers/allowed-imports': ['error', { root }],
    },
  },
  {
    files: ['src/browser/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
