import { describe, expect, it } from 'vitest';
import { base64Length } from '../../models/importers/registry';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../node/web/webHost';
import { DataSource, MAX_IMAGE_NAME_LENGTH, pictureBytesBySize, MAX_INLINE_IMAGES, MAX_INLINE_IMAGES_TOTAL_BYTES, MAX_INLINE_IMAGE_BYTES } from './dataSource';

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');
const issues = (value: unknown): string[] => {
  const r = DataSource.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('data source "images"', () => {
  it('takes pictures by file name with base64 bytes and optional labels', () => {
    expect(issues({ source: 'images', images: [{ name: 'a.png', dataBase64: png, label: 1 }, { name: 'b c.jpg', dataBase64: png }] })).toEqual([]);
  });

  it('refuses paths, odd names, non-base64, extra fields and empty lists', () => {
    for (const name of ['dir/a.png', 'dir\\a.png', '..', '.', '', 'a\u0000.png', 'x'.repeat(MAX_IMAGE_NAME_LENGTH + 1)]) expect(issues({ source: 'images', images: [{ name, dataBase64: png }] }), name).not.toEqual([]);
    for (const dataBase64 of ['', 'abc', 'ab$=', 'YWJj\n', 'YW=j']) expect(issues({ source: 'images', images: [{ name: 'a.png', dataBase64 }] }), dataBase64).not.toEqual([]);
    expect(issues({ source: 'images', images: [{ name: 'a.png', dataBase64: png, path: '/etc/passwd' }] })).not.toEqual([]);
    expect(issues({ source: 'images', images: [{ name: 'a.png', dataBase64: png, label: -1 }] })).not.toEqual([]);
    expect(issues({ source: 'images', images: [] })).not.toEqual([]);
    expect(issues({ source: 'images', images: [], extra: 1 })).not.toEqual([]);
  });

  it('bounds the count, each picture and the total', () => {
    const many = Array.from({ length: MAX_INLINE_IMAGES + 1 }, (_, i) => ({ name: `${i}.png`, dataBase64: png }));
    expect(issues({ source: 'images', images: many }).join('\n')).toMatch(/images/);
    const big = 'A'.repeat(base64Length(MAX_INLINE_IMAGE_BYTES) + 4);
    expect(issues({ source: 'images', images: [{ name: 'big.png', dataBase64: big }] }).join('\n')).toMatch(/larger than the limit of 8 MiB/);
    const seven = 'A'.repeat(base64Length(7 * 1024 * 1024));
    const tooMuch = Array.from({ length: 10 }, (_, i) => ({ name: `${i}.png`, dataBase64: seven }));
    expect(issues({ source: 'images', images: tooMuch }).join('\n')).toMatch(/pictures together are larger than the limit of 64 MiB/);
  });

  it('a spec at the limits fits the web host\'s message limit', () => {
    // base64 of every byte, plus per picture its name, a label and the JSON around them, plus the rest of the request
    const perPicture = MAX_IMAGE_NAME_LENGTH + 64;
    expect(base64Length(MAX_INLINE_IMAGES_TOTAL_BYTES) + MAX_INLINE_IMAGES * perPicture + 1024 * 1024).toBeLessThan(DEFAULT_MAX_MESSAGE_BYTES);
  });

  it('shows picture bytes by their size in previews', () => {
    expect(JSON.stringify({ data: { source: 'images', images: [{ name: 'a.png', dataBase64: 'AAAA' }] } }, pictureBytesBySize)).toBe('{"data":{"source":"images","images":[{"name":"a.png","dataBase64":"(4 base64 characters)"}]}}');
  });
});
