import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfTokenizerFromJson, loadHfTokenizer, parseHfTokenizer } from './hfTokenizer';

/** A tiny BERT-style WordPiece tokenizer.json, written by hand. */
function wordPieceJson(): Record<string, unknown> {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, the: 4, cat: 5, sat: 6, un: 7, '##happi': 8, '##ly': 9, '!': 10, cafe: 11 },
    },
  };
}

/** A tiny SentencePiece-style BPE tokenizer.json: lowercase + NFC normaliser, Metaspace pre-tokeniser and decoder. */
function bpeJson(): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: [{ id: 7, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      fuse_unk: true,
      byte_fallback: false,
      vocab: { '▁': 0, a: 1, b: 2, c: 3, '▁a': 4, '▁ab': 5, bc: 6, '<unk>': 7 },
      merges: ['▁ a', '▁a b', 'b c'],
    },
  };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hftok-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WordPiece tokenizer.json', () => {
  const tok = hfTokenizerFromJson(wordPieceJson());

  it('encodes with the normaliser, pre-tokeniser, greedy longest-match pieces and the [CLS]/[SEP] template', () => {
    // "The Cat sat unhappily!" -> lowercase -> the | cat | sat | unhappily | ! ; unhappily = un ##happi ##ly
    expect(tok.encode('The Cat sat unhappily!')).toEqual([2, 4, 5, 6, 7, 8, 9, 10, 3]);
    expect(tok.encode('The Cat sat unhappily!', { addSpecialTokens: false })).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // Accents are stripped when lowercasing (strip_accents null follows lowercase); unknown words -> [UNK].
    expect(tok.encode('CAFÉ dog', { addSpecialTokens: false })).toEqual([11, 1]);
    expect(tok.vocabSize).toBe(12);
    expect(tok.tokenToId('##ly')).toBe(9);
    expect(tok.idToToken(8)).toBe('##happi');
  });

  it('decodes: pieces joined, spaces before punctuation cleaned up, specials optionally dropped', () => {
    expect(tok.decode([4, 5, 6, 7, 8, 9, 10])).toBe('the cat sat unhappily!');
    expect(tok.decode([2, 4, 5, 3], { skipSpecialTokens: true })).toBe('the cat');
    expect(tok.decode([2, 4, 5, 3])).toBe('[CLS] the cat [SEP]');
    expect(tok.decode([])).toBe('');
    expect(() => tok.decode([4, 12])).toThrow('cannot decode: ids[1] = 12 is not a token id (0..11)');
    expect(() => tok.decode([1.5])).toThrow('ids[0] = 1.5 is not a token id');
  });
});

describe('BPE tokenizer.json', () => {
  const tok = hfTokenizerFromJson(bpeJson());

  it('applies the merges in rank order after the Metaspace prefix', () => {
    // "AB Bc" -> "ab bc" -> "▁ab▁bc" -> ▁ a b ▁ b c -> (▁ a) -> (▁a b) -> (b c) -> ▁ab ▁ bc
    expect(tok.encode('AB Bc')).toEqual([5, 0, 6]);
    // "c" alone: ▁ c (no merge); "abd": ▁ab then d, unknown -> <unk>
    expect(tok.encode('c')).toEqual([0, 3]);
    expect(tok.encode('abd')).toEqual([5, 7]);
    expect(tok.vocabSize).toBe(8);
  });

  it('decodes through the Metaspace decoder', () => {
    expect(tok.decode([5, 0, 6])).toBe('ab bc');
    expect(tok.decode([4, 2, 3])).toBe('abc');
  });
});

describe('loading and errors', () => {
  it('loads from a file, with a tokenizer_config.json beside it, and from JSON text', async () => {
    const sub = join(dir, 'wp');
    await rm(sub, { recursive: true, force: true });
    await mkdir(sub);
    const file = join(sub, 'tokenizer.json');
    await writeFile(file, JSON.stringify(wordPieceJson()));
    const fromFile = loadHfTokenizer(file);
    expect(fromFile.encode('the cat')).toEqual([2, 4, 5, 3]);
    expect(fromFile.source).toBe(file);
    // With the decoder's own cleanup off, the tokenizer-level clean-up (default on) removes the
    // space before "!", and clean_up_tokenization_spaces: false in the config keeps it.
    await writeFile(file, JSON.stringify({ ...wordPieceJson(), decoder: { type: 'WordPiece', prefix: '##', cleanup: false } }));
    expect(loadHfTokenizer(file).decode([4, 10])).toBe('the!');
    await writeFile(join(sub, 'tokenizer_config.json'), JSON.stringify({ clean_up_tokenization_spaces: false }));
    expect(loadHfTokenizer(file).decode([4, 10])).toBe('the !');
    expect(loadHfTokenizer(file, { config: {} }).decode([4, 10])).toBe('the!');
    await writeFile(join(sub, 'tokenizer_config.json'), '[1, 2]');
    expect(() => loadHfTokenizer(file)).toThrow('tokenizer_config.json must be a JSON object');
    expect(parseHfTokenizer(JSON.stringify(bpeJson())).encode('ab')).toEqual([5]);
  });

  it('gives clear errors for malformed files', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"model": {"type": "BPE", "vocab": {');
    expect(() => loadHfTokenizer(bad)).toThrow(`${bad}: not valid JSON`);
    expect(() => loadHfTokenizer(join(dir, 'missing.json'))).toThrow('missing.json: file not found');
    expect(() => loadHfTokenizer(dir)).toThrow(`${dir}: is a directory`);
    expect(() => parseHfTokenizer('[]')).toThrow('tokenizer.json: not a tokenizer.json (expected a JSON object with a "model")');
    expect(() => parseHfTokenizer('{"version": "1.0"}')).toThrow('tokenizer.json: not a valid tokenizer.json: model:');
    expect(() => hfTokenizerFromJson({ model: { type: 'WordPiece', vocab: { a: -1 } } })).toThrow('model.vocab.a');
    const unknownNormaliser = { ...wordPieceJson(), normalizer: { type: 'Frobnicate' } };
    expect(() => hfTokenizerFromJson(unknownNormaliser, { label: 'x.json' })).toThrow('x.json: unsupported or malformed tokenizer.json (Unknown Normalizer type: Frobnicate)');
    expect(() => hfTokenizerFromJson({ model: { type: 'BPE' } })).toThrow('tokenizer.json: not a valid tokenizer.json: model.vocab:');
    expect(() => hfTokenizerFromJson({ ...wordPieceJson(), decoder: { kind: 'WordPiece' } })).toThrow('decoder.type:');
    expect(() => hfTokenizerFromJson({ model: { type: 'BPE', vocab: {}, merges: [] } })).toThrow('the vocabulary is empty');
  });

  it('says when text cannot be encoded because the tokenizer has no unknown token', () => {
    const json = wordPieceJson();
    const model = json.model as Record<string, unknown>;
    const tok = hfTokenizerFromJson({ ...json, model: { ...model, unk_token: null } });
    expect(tok.encode('the cat', { addSpecialTokens: false })).toEqual([4, 5]);
    expect(() => tok.encode('the dog')).toThrow('tokenizer.json: cannot encode "the dog": a word of it is not in the vocabulary and the tokenizer has no unknown token');
    // A BPE model without an unknown token drops characters it has no piece for (as HF tokenizers does).
    const bpe = bpeJson();
    const bpeModel = bpe.model as Record<string, unknown>;
    const noUnk = { ...bpe, added_tokens: [], model: { ...bpeModel, unk_token: null, fuse_unk: false, vocab: { '▁': 0, a: 1, b: 2, c: 3, '▁a': 4, '▁ab': 5, bc: 6 } } };
    expect(hfTokenizerFromJson(noUnk).encode('abd')).toEqual([5]);
  });
});
