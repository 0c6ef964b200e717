import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonHash } from './canonical';

describe('canonical JSON', () => {
  it('sorts keys, keeps arrays, drops undefined members, and refuses what JSON cannot carry', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: null, c: 'x' }], u: undefined })).toBe('{"a":[3,{"c":"x","d":null}],"b":1}');
    expect(canonicalJson({ t: new Date(0) })).toBe('{"t":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJsonHash({ a: 1, b: 2 })).toBe(canonicalJsonHash({ b: 2, a: 1 }));
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const bad of [Number.NaN, 1n, [undefined], undefined, cyclic, { f: () => 1 }]) expect(() => canonicalJson(bad)).toThrow();
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});
