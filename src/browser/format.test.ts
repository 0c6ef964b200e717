import { describe, expect, it } from 'vitest';
import { errorMessage, formatDuration, formatEta, formatPercent, formatTimestamp } from './format';

describe('formatDuration', () => {
  it('reads naturally at every scale', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(59_600)).toBe('1 min 00 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_725_000)).toBe('1 h 02 min');
    expect(formatDuration(26 * 3_600_000)).toBe('26 h 00 min');
  });
  it('shows a dash for impossible values', () => {
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('formatEta', () => {
  it('is empty when unknown', () => {
    expect(formatEta(null)).toBe('');
    expect(formatEta(undefined)).toBe('');
    expect(formatEta(-5)).toBe('');
  });
  it('prefixes the time left', () => {
    expect(formatEta(400)).toBe('ETA <1 s');
    expect(formatEta(12_000)).toBe('ETA 12 s');
    expect(formatEta(90_000)).toBe('ETA 1 min 30 s');
  });
});

describe('formatPercent', () => {
  it('rounds down so unfinished work never shows 100%', () => {
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.5)).toBe('50%');
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
  });
  it('is not fooled by binary fractions and clamps', () => {
    expect(formatPercent(0.29)).toBe('29%'); // 0.29 * 100 = 28.999999999999996
    expect(formatPercent(1.7)).toBe('100%');
    expect(formatPercent(-0.2)).toBe('0%');
    expect(formatPercent(Number.NaN)).toBe('0%');
  });
});

describe('formatTimestamp', () => {
  it('prints local date and time with padding', () => {
    expect(formatTimestamp(new Date(2024, 0, 2, 3, 4, 5).getTime())).toBe('2024-01-02 03:04:05');
    expect(formatTimestamp(new Date(1999, 11, 31, 23, 59, 58).getTime())).toBe('1999-12-31 23:59:58');
  });
  it('shows a dash when there is no time', () => {
    expect(formatTimestamp(null)).toBe('—');
  });
});

describe('errorMessage', () => {
  it('extracts a message from anything', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TypeError(''))).toBe('TypeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 'not-found', message: 'no run 7' })).toBe('no run 7');
    expect(errorMessage({ a: 1 })).toBe('{"a":1}');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
