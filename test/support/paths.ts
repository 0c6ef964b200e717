/** Folders the tests read: the repository root and the shared test data beside it (../shared/models). */
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** ../shared/models: the catalog mirror of test models (see its READMEs). */
export const SHARED_MODELS = resolve(REPO_ROOT, '..', 'shared', 'models');
/** The llama2.c stories260K checkpoint and its tokenizer. */
export const STORIES260K_DIR = resolve(SHARED_MODELS, 'stories260K');
/** The built-in models shipped with the app (models/<name>/). */
export const BUILTIN_MODELS_DIR = resolve(REPO_ROOT, 'models');
/** scripts/tsWorker.mjs and the worker's TypeScript entry: how tests run experiment workers from source. */
export const TS_WORKER_BOOTSTRAP = resolve(REPO_ROOT, 'scripts', 'tsWorker.mjs');
export const WORKER_TS_ENTRY = resolve(REPO_ROOT, 'src', 'node', 'experiments', 'worker.ts');
