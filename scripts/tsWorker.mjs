// Development/test bootstrap for worker threads that run TypeScript sources directly:
// registers tsx's loader inside the worker, then imports the entry named by workerData.tsEntry
// (a file URL). The built app never uses this: its workers are plain JavaScript in out/main.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.tsEntry);
