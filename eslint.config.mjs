// Lint rules, including the import direction of the layers:
//   renderer  -> preload/contract, main/core (pure)           (never node built-ins, electron, main/node)
//   main/core -> nothing that needs Node or Electron            (pure TypeScript)
//   main/node, db, experiments -> main/core, preload/contract   (never electron, main/electron)
//   main/electron -> everything                                 (the only place electron is imported, with preload/index.ts)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nativeDeps = ['onnxruntime-node', 'better-sqlite3', 'ws'];

const noElectron = {
  paths: [{ name: 'electron', message: 'Only main/electron and preload/index.ts may import electron.' }],
  patterns: [{ group: ['**/main/electron/**', '**/electron/*'], message: 'Imports flow Electron -> Node -> pure, never back.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'coverage/**', 'test-results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['main/node/**/*.ts', 'db/**/*.ts', 'experiments/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noElectron] },
  },
  {
    files: ['main/core/**/*.ts', 'preload/contract.ts', 'experiments/**/spec.ts', 'experiments/presets.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Pure code must not use Node built-ins.' })),
            ...nativeDeps.map((name) => ({ name, message: 'Pure code must not use native Node packages.' })),
            { name: 'electron', message: 'Pure code must not import electron.' },
          ],
          patterns: [{ group: ['**/main/node/**', '**/main/electron/**', '**/node/*', '**/electron/*', '**/db/*'], message: 'Pure code imports only pure code.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'The renderer runs in a browser sandbox: no Node built-ins.' })),
            ...nativeDeps.map((name) => ({ name, message: 'The renderer must not use native Node packages.' })),
            { name: 'electron', message: 'The renderer talks to main only through the typed client.' },
          ],
          patterns: [{ group: ['**/main/node/**', '**/main/electron/**', '**/db/**', '**/preload/index*'], message: 'The renderer imports only pure code and the contract.' }],
        },
      ],
    },
  },
);
