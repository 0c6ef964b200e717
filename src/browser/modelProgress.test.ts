import { describe, expect, it } from 'vitest';
import { formatBytes, formatDims, shapeText } from './modelFormat';
import { fetchProgressView } from './modelProgress';

describe('fetchProgressView', () => {
  it('sums the files against the entry size', () => {
    const v = fetchProgressView({ phase: 'downloading', files: { a: { received: 512, total: 1024 }, b: { received: 0, total: 1024 } } }, 2048);
    expect(v).toEqual({ percent: 25, text: 'Downloading 512 B / 2.00 KiB', status: 'running' });
  });
  it('falls back to the files sizes, then to bytes only', () => {
    expect(fetchProgressView({ phase: 'downloading', files: { a: { received: 10, total: 20 } } }, null).percent).toBe(50);
    expect(fetchProgressView({ phase: 'downloading', files: { a: { received: 10, total: null } } }, null)).toMatchObject({ percent: 0, text: 'Downloading 10 B' });
  });
  it('shows the other phases', () => {
    expect(fetchProgressView({ phase: 'idle', files: {} }, 10).text).toBe('');
    expect(fetchProgressView({ phase: 'downloading', files: {} }, 10).text).toBe('Starting…');
    expect(fetchProgressView({ phase: 'converting', files: {} }, 10)).toMatchObject({ percent: 100, status: 'running' });
    expect(fetchProgressView({ phase: 'done', files: {} }, 10)).toMatchObject({ percent: 100, status: 'done' });
    expect(fetchProgressView({ phase: 'failed', files: {} }, 10).status).toBe('failed');
  });
});

describe('model formatting', () => {
  it('formats sizes, shapes and summaries', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1_062_767)).toBe('1.01 MiB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatDims(['batch', 16, null])).toBe('[batch, 16, ?]');
    expect(formatDims(null)).toBe('(unknown rank)');
    expect(shapeText({ blocks: [], inputs: [{ name: 'x', dtype: 'float32', dims: null }], outputs: [] })).toBe('0 attention layers · 1 input · 0 outputs');
  });
});
