import { describe, expect, it } from 'vitest';
import { Base64Error, base64ToBytes, bytesToBase64 } from './base64';

describe('base64', () => {
  it('round-trips every byte value and every length modulo 3', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...base64ToBytes(bytesToBase64(all))]).toEqual([...all]);
    for (let n = 0; n < 7; n++) {
      const bytes = all.subarray(250 - n, 250);
      const b64 = bytesToBase64(bytes);
      expect(b64).toBe(Buffer.from(bytes).toString('base64'));
      expect([...base64ToBytes(b64)]).toEqual([...bytes]);
    }
  });

  it('round-trips data larger than one encoding chunk', () => {
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) % 256);
    const b64 = bytesToBase64(big);
    expect(b64).toBe(Buffer.from(big).toString('base64'));
    expect(base64ToBytes(b64)).toEqual(big);
  });

  it('decodes known values', () => {
    expect([...base64ToBytes('QUL/')]).toEqual([65, 66, 255]);
    expect([...base64ToBytes('')]).toEqual([]);
    expect([...base64ToBytes('QQ==')]).toEqual([65]);
  });

  it('refuses malformed input', () => {
    for (const bad of ['QUL', 'QQ=', 'Q===', 'QU L/', 'QUL/\n', 'QU$/', 'QQ==QUL/', '====', 'QUL_', 'QUL-']) {
      expect(() => base64ToBytes(bad), bad).toThrow(Base64Error);
    }
    expect(() => base64ToBytes('QU$/')).toThrow(/unexpected character "\$" at 2/);
    expect(() => base64ToBytes('QUL')).toThrow(/length 3 or padding/);
  });
});
