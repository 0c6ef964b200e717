/** The state of a catalog fetch as the models page shows it, from model.progress events. Pure. */
import { formatBytes } from './modelFormat';

export interface FetchProgressState {
  readonly phase: 'idle' | 'downloading' | 'converting' | 'done' | 'failed';
  /** Per file: bytes received so far and the file's size when known. */
  readonly files: Readonly<Record<string, { readonly received: number; readonly total: number | null }>>;
}

export interface FetchProgressView {
  /** 0..100 */
  readonly percent: number;
  readonly text: string;
  /** The progress-fill modifier (same names as a run's statuses, so the colours match). */
  readonly status: 'queued' | 'running' | 'done' | 'failed';
}

/** Overall progress: bytes received over the entry's size (or the files' sizes when that is unknown). */
export function fetchProgressView(state: FetchProgressState, entrySize: number | null): FetchProgressView {
  const files = Object.values(state.files);
  const received = files.reduce((s, f) => s + f.received, 0);
  const known = files.every((f) => f.total !== null) ? files.reduce((s, f) => s + (f.total ?? 0), 0) : null;
  const total = entrySize ?? known;
  const fraction = total !== null && total > 0 ? Math.min(1, received / total) : 0;
  const bytes = total !== null ? `${formatBytes(received)} / ${formatBytes(total)}` : formatBytes(received);
  switch (state.phase) {
    case 'idle':
      return { percent: 0, text: '', status: 'queued' };
    case 'downloading':
      return { percent: Math.floor(fraction * 1000) / 10, text: files.length === 0 ? 'Starting…' : `Downloading ${bytes}`, status: 'running' };
    case 'converting':
      return { percent: 100, text: 'Converting to ONNX…', status: 'running' };
    case 'done':
      return { percent: 100, text: 'Fetched and converted', status: 'done' };
    case 'failed':
      return { percent: Math.floor(fraction * 1000) / 10, text: 'Failed', status: 'failed' };
  }
}
