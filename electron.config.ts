/**
 * electron-vite build (`electron-vite build -c electron.config.ts`):
 *   out/main/index.js    Electron main process   (src/electron-main/index.ts)
 *   out/main/cli.js      the `attn` CLI, plain Node (src/node/cli/cli.ts)
 *   out/main/worker.js   experiment worker thread (src/node/experiments/worker.ts)
 *   out/main/chunks/     code shared by those three (ESM)
 *   out/preload/index.cjs  sandboxed preload: one self-contained CommonJS file
 *   out/renderer/        the UI (src/browser/index.html and its assets)
 * Dependencies (onnxruntime-node, better-sqlite3, ws, commander, zod, ...) stay external
 * imports resolved from node_modules at run time; only `electron` itself is special, and only
 * src/electron-main and src/preload import it. The Electron binary is not needed to build.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';

// electron-vite bundles this file before loading it and rewrites `import.meta.url` per source
// file (not `import.meta.dirname`), so derive the project root from the URL.
const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // cli.js and worker.js also run under plain Node (>= 20.19, see package.json engines).
      target: 'node20.19',
      externalizeDeps: true,
      emptyOutDir: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src/electron-main/index.ts'),
          cli: resolve(root, 'src/node/cli/cli.ts'),
          worker: resolve(root, 'src/node/experiments/worker.ts'),
        },
        output: {
          format: 'es',
          entryFileNames: '[name].js',
          chunkFileNames: 'chunks/[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // Sandboxed preloads can require only a few Electron-provided modules: bundle everything.
      externalizeDeps: false,
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
          codeSplitting: false,
        },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/browser'),
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src/browser/index.html') },
      },
    },
  },
});
