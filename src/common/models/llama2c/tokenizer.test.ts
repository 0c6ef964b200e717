import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Llama2cTokenizerError, parseLlama2cTokenizer } from './tokenizer';
import { STORIES260K_DIR } from '../../../../test/support/paths';

const DATA = STORIES260K_DIR;
const tok512 = new Uint8Array(readFileSync(join(DATA, 'tok512.bin')));

// From ../shared/models/stories260K/README.md: greedy ids from BOS and the text they begin.
const README_IDS = [
  1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433,
  426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
];
const README_TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';

/** A tokenizer.bin from [piece, score] pairs. */
function tokenizerFile(entries: readonly (readonly [string, number])[], maxLen?: number): Uint8Array {
  const enc = new TextEncoder();
  const pieces = entries.map(([p]) => enc.encode(p));
  const size = 4 + pieces.reduce((n, p) => n + 8 + p.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(0, maxLen ?? Math.max(...pieces.map((p) => p.length)), true);
  let at = 4;
  entries.forEach(([, score], i) => {
    const p = pieces[i] ?? new Uint8Array(0);
    v.setFloat32(at, score, true);
    v.setInt32(at + 4, p.length, true);
    out.set(p, at + 8);
    at += 8 + p.length;
  });
  return out;
}

// ids 0..12; scores decide the merge order.
const TINY: [string, number][] = [
  ['<unk>', 0],
  ['\n<s>\n', 0],
  ['\n</s>\n', 0],
  [' ', -10],
  ['a', -10],
  ['b', -10],
  ['c', -10],
  ['ab', -1],
  ['bc', -0.5],
  [' a', -2],
  ['abc', -3],
  ['<0xC3>', 0],
  ['<0xA9>', 0],
];

describe('llama2.c tokenizer on tok512.bin', () => {
  const tok = parseLlama2cTokenizer(tok512, 512);

  it('reads the vocabulary', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.maxTokenLength).toBe(7);
    expect(tok.pieces[1]).toBe('\n<s>\n');
    expect(tok.pieces[3]).toBe('<0x00>');
    expect(tok.pieces[259]).toBe(' t');
    expect(tok.scores[260]).toBe(-1);
    // Without the model's vocabulary size, tokens are read to the end of the file.
    expect(parseLlama2cTokenizer(tok512).vocabSize).toBe(512);
  });

  it("decodes the README's ids to the beginning of its text", () => {
    // The 41 ids stop at ' r'; the README's sentence ends 'red ball.' a few tokens later.
    expect(tok.decode(README_IDS)).toBe('Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, r');
  });

  it("encodes the README's text to the greedy ids (then 'ed ball.') and round-trips", () => {
    const ids = tok.encode(README_TEXT, { bos: true });
    expect(ids.slice(0, README_IDS.length)).toEqual(README_IDS);
    expect(ids.slice(README_IDS.length).map((i) => tok.pieces[i]).join('')).toBe('ed ball.');
    expect(tok.decode(ids)).toBe(README_TEXT);
    expect(tok.encode(README_TEXT, { bos: true, eos: true })).toEqual([...ids, 2]);
  });

  it('merges by score, by hand: " the"', () => {
    // ' ' t h e -> pairs ' t' (score -0), 'th' (none), 'he' (-1): merge ' t'; then ' th' (-49) vs 'he' (-1):
    // merge 'he'; then ' the' is a token (265).
    expect([' ', 't', 'h', 'e', ' t', 'he', ' th', ' the'].map((p) => tok.idOf(p))).toEqual([410, 413, 415, 411, 259, 260, 308, 265]);
    expect(tok.scores[308]).toBe(-49);
    expect(tok.encode('the')).toEqual([265]);
    expect(tok.decode([265])).toBe(' the');
    expect(tok.decode([1, 265])).toBe('the');
  });

  it('falls back to UTF-8 byte tokens and decodes them back', () => {
    const ids = tok.encode('café ☃', { bos: true });
    // '☃' (E2 98 83) is not in the vocabulary: three byte tokens, id 3 + byte.
    expect(tok.idOf('☃')).toBeUndefined();
    expect(ids.slice(-4)).toEqual([410, 0xe2 + 3, 0x98 + 3, 0x83 + 3]);
    expect(tok.decode(ids)).toBe('café ☃');
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('', { bos: true, eos: true })).toEqual([1, 2]);
  });
});

describe('llama2.c tokenizer on a hand-made vocabulary', () => {
  const tok = parseLlama2cTokenizer(tokenizerFile(TINY));

  it('merges the highest-scoring pair first, leftmost on ties', () => {
    // ' ' a b c: ' a' -2, 'ab' -1, 'bc' -0.5 -> 'bc'; then ' a' -2, 'abc' -3 -> ' a'; ' abc' is no token.
    expect(tok.encode('abc')).toEqual([9, 8]);
    // ' ' a b a b: ' a' -2, 'ab' -1, 'ba' none, 'ab' -1 -> the left 'ab'; then ' ab' none, 'aba' none, 'ab' -1 -> the
    // right 'ab'; then ' ab' and 'abab' are no tokens.
    expect(tok.encode('abab', { bos: true })).toEqual([1, 3, 7, 7]);
    expect(tok.decode([1, 3, 7, 7])).toBe('abab');
  });

  it('uses byte tokens only where they exist', () => {
    expect(tok.encode('é')).toEqual([3, 11, 12]);
    expect(tok.decode([11, 12])).toBe('é');
    expect(() => tok.encode('d')).toThrow(/cannot encode character "d" \(U\+0064\).*no byte token <0x64>/);
    expect(() => tok.decode([13])).toThrow(/token id 13 is outside the vocabulary \(0..12\)/);
  });
});

describe('bad tokenizer files', () => {
  it('a checkpoint is not a tokenizer', () => {
    const ckpt = new Uint8Array(readFileSync(join(DATA, 'stories260K.bin')));
    expect(() => parseLlama2cTokenizer(ckpt, 512)).toThrow(Llama2cTokenizerError);
    expect(() => parseLlama2cTokenizer(ckpt, 512)).toThrow(/not a llama2\.c tokenizer\.bin: token \d+ has/);
  });

  it('truncated, too long for the vocabulary, or not UTF-8', () => {
    expect(() => parseLlama2cTokenizer(tok512.subarray(0, 3000), 512)).toThrow(/tokenizer\.bin is truncated: token \d+ needs/);
    expect(() => parseLlama2cTokenizer(tok512, 500)).toThrow(/bytes are left after the 500 tokens/);
    expect(() => parseLlama2cTokenizer(tok512.subarray(0, 2))).toThrow(/fewer than the 4-byte max_token_length/);
    const bad = tokenizerFile([['ab', 0]]);
    bad[12] = 0xff;
    expect(() => parseLlama2cTokenizer(bad)).toThrow(/token 0 is not valid UTF-8/);
    expect(() => parseLlama2cTokenizer(tokenizerFile([['abc', 0]], 2))).toThrow(/token 0 has byte length 3, outside 0..max_token_length \(2\)/);
  });
});
