import { describe, expect, it } from 'vitest';
import type { ArtifactSummary } from '../../contract';
import { continuationArtifacts, decodeContinuationBytes, firstDifference, parseContinuations, splitAtDifference } from './continuations';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('continuationArtifacts', () => {
  it('keeps uint8 continuations artifacts, keyed by point, first of duplicates', () => {
    const a = (id: number, name: string, kind = 'continuations', dtype: ArtifactSummary['dtype'] = 'uint8'): ArtifactSummary => ({ id, kind, name, dtype, shape: [10], bytes: 10 });
    const out = continuationArtifacts([
      a(1, 'continuations/exact'),
      a(2, 'attention/exact/example0', 'attention-map', 'float32'),
      a(3, 'continuations/sliding@4'),
      a(4, 'continuations/linear(elu)'),
      a(5, 'continuations/sliding@4'),
      a(6, 'continuations/'),
      a(7, 'other/sliding@8'),
    ]);
    expect(out.map((c) => [c.key, c.artifact.id])).toEqual([
      ['exact', 1],
      ['sliding@4', 3],
      ['linear(elu)', 4],
    ]);
  });
});

describe('decodeContinuationBytes', () => {
  it('decodes UTF-8 JSON from base64', () => {
    const entries = [
      { prompt: 'Once upon a time', exact: ' there was a café ☕', variant: ' there was a dog' },
      { prompt: '<script>x</script>', exact: '', variant: 'é' },
    ];
    expect(decodeContinuationBytes(utf8(JSON.stringify(entries)))).toEqual(entries);
  });

  it('rejects what is not a list of { prompt, exact, variant } strings', () => {
    expect(() => decodeContinuationBytes(utf8('{"prompt":"a"}'))).toThrow(/array/);
    expect(() => decodeContinuationBytes(utf8('not json'))).toThrow(/not valid JSON/);
    expect(() => decodeContinuationBytes(utf8('[{"prompt":"a","exact":"b"}]'))).toThrow(/continuation 0: 'variant' must be a string/);
    expect(() => decodeContinuationBytes(utf8('[1]'))).toThrow(/continuation 0 is not an object/);
    expect(() => parseContinuations([{ prompt: 'a', exact: 'b', variant: 'c' }, { prompt: 1, exact: 'b', variant: 'c' }])).toThrow(/continuation 1: 'prompt'/);
    expect(() => decodeContinuationBytes(new Uint8Array([0xff, 0xfe]))).toThrow();
  });

  it('drops extra fields', () => {
    expect(parseContinuations([{ prompt: 'a', exact: 'b', variant: 'c', extra: 1 }])).toEqual([{ prompt: 'a', exact: 'b', variant: 'c' }]);
  });
});

describe('firstDifference', () => {
  it('finds the first differing index, or null when equal', () => {
    expect(firstDifference('abc', 'abc')).toBeNull();
    expect(firstDifference('', '')).toBeNull();
    expect(firstDifference('abc', 'abd')).toBe(2);
    expect(firstDifference('xbc', 'abc')).toBe(0);
    expect(firstDifference('ab', 'abc')).toBe(2);
    expect(firstDifference('abc', '')).toBe(0);
  });

  it('does not split a surrogate pair', () => {
    // U+1F600 and U+1F601 share the high surrogate.
    expect(firstDifference('a\u{1F600}', 'a\u{1F601}')).toBe(1);
  });

  it('splits text at the difference', () => {
    expect(splitAtDifference(' the dog ran', ' the cat ran')).toEqual([' the ', 'dog ran']);
    expect(splitAtDifference('same', 'same')).toEqual(['same', '']);
    expect(splitAtDifference('ab', 'abc')).toEqual(['ab', '']);
    expect(splitAtDifference('abc', 'ab')).toEqual(['ab', 'c']);
  });
});
