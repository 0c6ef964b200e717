import { describe, expect, it } from 'vitest';
import { safeFileName } from './download';

describe('safeFileName', () => {
  it('replaces path separators, spaces and punctuation', () => {
    expect(safeFileName('run 12: a/b')).toBe('run-12-a-b');
    expect(safeFileName('..\\..\\evil.html')).toBe('evil.html');
  });
  it('keeps ordinary names', () => {
    expect(safeFileName('run-1-surface-rel_err_max.png')).toBe('run-1-surface-rel_err_max.png');
  });
  it('never returns an empty name', () => {
    expect(safeFileName('///')).toBe('download');
  });
});
