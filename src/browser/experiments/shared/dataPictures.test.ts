import { describe, expect, it } from 'vitest';
import { MAX_INLINE_IMAGES, MAX_INLINE_IMAGE_BYTES } from '../../../common/experiments/shared/dataSource';
import { baseName, bytesToBase64, choosePictureFiles, inlineImages, parseLabelsCsv, picturesStatus } from './dataPictures';

const file = (path: string, size = 10) => ({ name: baseName(path), path, size });

describe('pictures chosen in the form', () => {
  it('keeps the PNG/JPEG files sorted by path and the labels.csv nearest the top', () => {
    const chosen = choosePictureFiles([file('vit/images/red.png'), file('vit/notes.txt'), file('vit/images/labels.csv'), file('vit/labels.csv'), file('vit/images/b.JPG'), file('vit/images/c.jpeg')]);
    expect(chosen.pictures.map((f) => f.path)).toEqual(['vit/images/b.JPG', 'vit/images/c.jpeg', 'vit/images/red.png']);
    expect(chosen.labelsCsv?.path).toBe('vit/labels.csv');
    expect(choosePictureFiles([file('a.png')]).labelsCsv).toBeUndefined();
  });

  it('refuses no pictures, too many, too large, too much together (before reading)', () => {
    expect(() => choosePictureFiles([file('labels.csv')])).toThrow(/no PNG or JPEG pictures/);
    expect(() => choosePictureFiles(Array.from({ length: MAX_INLINE_IMAGES + 1 }, (_, i) => file(`${i}.png`)))).toThrow(/2001 pictures, more than the 2000/);
    expect(() => choosePictureFiles([file('a.png'), file('d/big.png', MAX_INLINE_IMAGE_BYTES + 1)])).toThrow(/d\/big\.png is larger than 8 MiB/);
    expect(() => choosePictureFiles(Array.from({ length: 9 }, (_, i) => file(`${i}.png`, 8 * 1024 * 1024)))).toThrow(/together are 72\.0 MiB, more than the 64 MiB/);
  });

  it('reads labels.csv by file name (paths in it reduced to their file name), as indices or class names', () => {
    const labels = parseLabelsCsv('file,label\nimages/red_square.png,red\n"images/green stripes.png",1\nblue_disc.png,BLUE\nunlabelled.png,\n', 'labels.csv', ['red', 'green', 'blue']);
    expect([...labels]).toEqual([['red_square.png', 0], ['green stripes.png', 1], ['blue_disc.png', 2]]);
    expect(() => parseLabelsCsv('name,label\na.png,0\n', 'labels.csv', undefined)).toThrow(/needs a 'file' and a 'label' column \(found: name, label\)/);
    expect(() => parseLabelsCsv('file,label\na.png,red\n', 'labels.csv', undefined)).toThrow(/row 2: label 'red' is not a class index/);
    expect(() => parseLabelsCsv('file,label\na.png,5\n', 'labels.csv', ['x', 'y'])).toThrow(/row 2: label 5 is out of range/);
    expect(() => parseLabelsCsv('file,label\na/x.png,0\nb/x.png,1\n', 'labels.csv', undefined)).toThrow(/row 3: x\.png is labelled twice, differently/);
  });

  it('makes the inline pictures and says what was read', () => {
    const set = { pictures: [{ name: 'a.png', path: 'd/a.png', dataBase64: 'AAAA' }, { name: 'b.png', path: 'd/b.png', dataBase64: 'AQID' }], labelsCsv: { name: 'd/labels.csv', content: 'file,label\na.png,1\n' } };
    expect(inlineImages(set, undefined)).toEqual([{ name: 'a.png', dataBase64: 'AAAA', label: 1 }, { name: 'b.png', dataBase64: 'AQID' }]);
    expect(picturesStatus(set, undefined)).toBe('2 pictures, 1 labelled (d/labels.csv)');
    expect(picturesStatus({ ...set, labelsCsv: null }, undefined)).toBe('2 pictures, no labels.csv (unlabelled)');
    expect(picturesStatus({ pictures: set.pictures.slice(0, 1), labelsCsv: { name: 'labels.csv', content: 'file,label\na.png,z\n' } }, ['x'])).toBe("1 picture; labels.csv: row 2: label 'z' is not a class of the model (x)");
  });

  it('encodes bytes as base64 (large ones in chunks)', () => {
    expect(bytesToBase64(new Uint8Array([0, 1, 2, 255]))).toBe('AAEC/w==');
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    expect(bytesToBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });
});
