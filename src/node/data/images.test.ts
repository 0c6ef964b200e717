/**
 * Image data and preprocessing: the resize filter against values computed by hand from its
 * definition (a triangle filter, widened by the scale factor when shrinking, pixel centres at +½),
 * and the vit-tiny fixture's pictures preprocessed as its preprocessor_config.json says against
 * the pixel_values.npy that torch computed from the same PNGs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfPreprocessorConfig } from '../../common/models/hfConfig';
import { preprocessImage, resizeBilinear } from '../../common/models/imagePreprocess';
import { decodeNpy } from '../../common/npy';
import { REPO_ROOT } from '../../../test/support/paths';
import { decodeImage, isImageData, readImageExamples } from './images';

const VIT = resolve(REPO_ROOT, 'test', 'fixtures', 'hf', 'vit-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'attn-images-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('resizeBilinear', () => {
  it('upsamples 2 → 4 as half-pixel bilinear: [a, ¾a + ¼b, ¼a + ¾b, b]', () => {
    const out = resizeBilinear(Float64Array.of(0, 100), 1, 2, 1, 1, 4);
    expect([...out]).toEqual([0, 25, 75, 100]);
  });

  it('downsamples 4 → 2 with the widened filter: weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7', () => {
    const out = resizeBilinear(Float64Array.of(0, 70, 140, 210), 1, 4, 1, 1, 2);
    expect(out[0]).toBeCloseTo((3 * 0 + 3 * 70 + 140) / 7, 12);
    expect(out[1]).toBeCloseTo((70 + 3 * 140 + 3 * 210) / 7, 12);
  });

  it('resizes rows and columns separably, per channel', () => {
    // 2×2, two channels; to 4×4: corner values stay, the centre is the mean of all four
    const src = Float64Array.of(0, 8, 40, 8, 80, 8, 120, 8);
    const out = resizeBilinear(src, 2, 2, 2, 4, 4);
    expect(out[0]).toBe(0);
    expect(out[(3 * 4 + 3) * 2]).toBe(120);
    for (let i = 1; i < out.length; i += 2) expect(out[i]).toBeCloseTo(8, 12);
    // (1,1): ¾ of row 0 and ¼ of row 1, each ¾/¼ across: 0.5625·0 + 0.1875·40 + 0.1875·80 + 0.0625·120
    expect(out[(1 * 4 + 1) * 2]).toBeCloseTo(0.1875 * 40 + 0.1875 * 80 + 0.0625 * 120, 12);
  });
});

describe('preprocessImage', () => {
  it('gives the vit-tiny fixture pictures exactly the pixel_values torch computed', () => {
    const cfg = HfPreprocessorConfig.parse(JSON.parse(readFileSync(join(VIT, 'preprocessor_config.json'), 'utf8')));
    const expected = decodeNpy(new Uint8Array(readFileSync(join(VIT, 'pixel_values.npy'))));
    expect(expected.shape).toEqual([3, 3, 32, 32]);
    const examples = readImageExamples(VIT, ['red', 'green', 'blue']);
    expect(examples.map((e) => [e.id, e.label])).toEqual([
      ['images/red_square.png', 0],
      ['images/green_stripes.png', 1],
      ['images/blue_disc.png', 2],
    ]);
    examples.forEach((e, i) => {
      const { data, dims } = preprocessImage(decodeImage(new Uint8Array(readFileSync(e.path)), e.id), cfg);
      expect(dims).toEqual([3, 32, 32]);
      const want = expected.data.subarray(i * 3 * 32 * 32, (i + 1) * 3 * 32 * 32);
      let max = 0;
      for (let j = 0; j < want.length; j++) max = Math.max(max, Math.abs((data[j] as number) - (want[j] as number)));
      expect(max).toBeLessThan(1e-6);
    });
  });

  it('rescales and normalises per channel after resizing and centre-cropping', () => {
    // 4×4 grey-level ramp 0..15 (R=G=B), resized to 2×2, no crop: rescale 1/255, mean 0.5, std 0.25
    const data = new Uint8Array(4 * 4 * 4);
    for (let i = 0; i < 16; i++) data.set([i * 10, i * 10, i * 10, 255], i * 4);
    const cfg = HfPreprocessorConfig.parse({ size: { height: 2, width: 2 }, image_mean: 0.5, image_std: [0.25], rescale_factor: 1 / 255 });
    const { data: out, dims } = preprocessImage({ width: 4, height: 4, data }, cfg);
    expect(dims).toEqual([3, 2, 2]);
    // PIL rounds each pass to 8 bits: row pass then column pass of (3,3,1)/7 weights
    const px = (r: number, c: number): number => (r * 4 + c) * 10;
    const rowPass = (r: number, c0: number): number => Math.round((3 * px(r, c0) + 3 * px(r, c0 + 1) + px(r, c0 + 2)) / 7);
    const v00 = Math.round((3 * rowPass(0, 0) + 3 * rowPass(1, 0) + rowPass(2, 0)) / 7);
    expect(out[0]).toBeCloseTo((v00 / 255 - 0.5) / 0.25, 6);
    const cropped = preprocessImage({ width: 4, height: 4, data }, HfPreprocessorConfig.parse({ do_resize: false, do_center_crop: true, crop_size: 2, do_normalize: false }));
    expect(cropped.dims).toEqual([3, 2, 2]);
    expect([...cropped.data.subarray(0, 4)].map((x) => Math.round(x * 255))).toEqual([50, 60, 90, 100]);
  });
});

describe('image data', () => {
  it('reads a folder without labels.csv (sorted files) and a JSONL of images; refuses paths leaving the folder', () => {
    const dir = join(tmp, 'pics');
    const png = readFileSync(join(VIT, 'images', 'red_square.png'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.png'), png);
    writeFileSync(join(dir, 'a.png'), png);
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    expect(isImageData(dir)).toBe(true);
    expect(readImageExamples(dir).map((e) => e.id)).toEqual(['a.png', 'b.png']);
    const jsonl = join(dir, 'data.jsonl');
    writeFileSync(jsonl, '{"image": "b.png", "label": "green"}\n{"image": "a.png"}\n');
    expect(isImageData(jsonl)).toBe(true);
    expect(readImageExamples(jsonl, ['red', 'green']).map((e) => [e.id, e.label])).toEqual([['b.png', 1], ['a.png', undefined]]);
    writeFileSync(jsonl, '{"image": "../secret.png"}\n');
    expect(() => readImageExamples(jsonl)).toThrow(/must be a path inside .*no '\.\.'/);
    writeFileSync(jsonl, '{"image": "a.png", "label": "purple"}\n');
    expect(() => readImageExamples(jsonl, ['red', 'green'])).toThrow(/label 'purple' is not a class of the model \(red, green\)/);
  });

  it('refuses a file that is not a PNG or JPEG, and a picture too large before decoding it', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello, not a picture at all'), 'x.png')).toThrow(/x\.png: not a PNG or JPEG image/);
    const header = new Uint8Array(33);
    header.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const dv = new DataView(header.buffer);
    dv.setUint32(16, 100_000);
    dv.setUint32(20, 100_000);
    expect(() => decodeImage(header, 'huge.png')).toThrow(/huge\.png: 100000×100000 pixels is more than/);
  });
});
