import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr, decodeModel, staticSize } from './builder';

function int(v: unknown): number {
  // protobufjs decodes int64 fields as Long objects or numbers.
  return Number(typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : v);
}

describe('GraphBuilder', () => {
  it('serialises inputs, outputs, nodes and opset 17 in the default domain', () => {
    const g = new GraphBuilder({ graphName: 'tiny' });
    const x = g.input('x', 'float32', ['batch', 3]);
    const y = g.op('Relu', [x], { elemType: 'float32', shape: ['batch', 3] });
    g.output(y, 'y');
    const m = decodeModel(g.toModelBytes());
    expect(int(m.irVersion)).toBe(8);
    expect((m.opsetImport ?? []).map((o) => [o.domain, int(o.version)])).toEqual([['', 17]]);
    expect(m.graph?.name).toBe('tiny');
    const input = (m.graph?.input ?? [])[0];
    expect(input?.name).toBe('x');
    expect(input?.type?.tensorType?.elemType).toBe(1);
    expect(input?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || int(d.dimValue))).toEqual(['batch', 3]);
    expect((m.graph?.output ?? []).map((o) => o.name)).toEqual(['y']);
    // Output renamed through an Identity node.
    expect((m.graph?.node ?? []).map((n) => n.opType)).toEqual(['Relu', 'Identity']);
  });

  it('imports com.microsoft when asked and refuses contrib ops otherwise', () => {
    const plain = new GraphBuilder();
    const x = plain.input('x', 'float32', [2]);
    expect(() => plain.op('FusedMatMul', [x, x], { elemType: 'float32' }, { domain: 'com.microsoft' })).toThrow(/without microsoftDomain/);
    const ms = new GraphBuilder({ microsoftDomain: true, opsetVersion: 18 });
    const a = ms.input('a', 'float32', [2, 2]);
    ms.output(ms.op('FusedMatMul', [a, a], { elemType: 'float32', shape: [2, 2] }, { domain: 'com.microsoft', attrs: { alpha: attr.float(0.5) } }));
    const m = decodeModel(ms.toModelBytes());
    expect((m.opsetImport ?? []).map((o) => [o.domain, int(o.version)])).toEqual([
      ['', 18],
      ['com.microsoft', 1],
    ]);
    expect((m.graph?.node ?? [])[0]?.domain).toBe('com.microsoft');
  });

  it('encodes int, float, ints, floats, string and tensor attributes', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 3]);
    const y = g.op('Custom', [x], { elemType: 'float32' }, {
      attrs: {
        i: attr.int(-7),
        f: attr.float(0.25),
        is: attr.ints([1, -1, 3]),
        fs: attr.floats([0.5, 1.5]),
        s: attr.string('reflect'),
        t: attr.tensor({ dtype: 'int64', shape: [2], data: new BigInt64Array([4n, -5n]) }),
      },
    });
    g.output(y);
    const node = (decodeModel(g.toModelBytes()).graph?.node ?? [])[0];
    const byName = new Map((node?.attribute ?? []).map((a) => [a.name, a]));
    expect(int(byName.get('i')?.i)).toBe(-7);
    expect(byName.get('i')?.type).toBe(2);
    expect(byName.get('f')?.f).toBe(0.25);
    expect((byName.get('is')?.ints ?? []).map(int)).toEqual([1, -1, 3]);
    expect(byName.get('fs')?.floats).toEqual([0.5, 1.5]);
    expect(new TextDecoder().decode(byName.get('s')?.s ?? new Uint8Array())).toBe('reflect');
    const t = byName.get('t')?.t;
    expect(t?.dataType).toBe(7);
    expect((t?.dims ?? []).map(int)).toEqual([2]);
    const raw = t?.rawData ?? new Uint8Array();
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    expect([view.getBigInt64(0, true), view.getBigInt64(8, true)]).toEqual([4n, -5n]);
  });

  it('stores initializers as little-endian raw data', () => {
    const g = new GraphBuilder();
    const c = g.constFloat32([1.5, -2, 3], [3], 'weights');
    const s = g.constInt64(-9);
    g.output(g.op('Identity', [c], { elemType: 'float32', shape: [3] }));
    g.output(g.op('Identity', [s], { elemType: 'int64', shape: [] }));
    const inits = decodeModel(g.toModelBytes()).graph?.initializer ?? [];
    const w = inits.find((i) => i.name === 'weights');
    const raw = w?.rawData ?? new Uint8Array();
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    expect(raw.byteLength).toBe(12);
    expect([0, 4, 8].map((o) => view.getFloat32(o, true))).toEqual([1.5, -2, 3]);
    const scalar = inits.find((i) => i.name !== 'weights');
    expect(scalar?.dims).toEqual([]);
    expect(scalar?.dataType).toBe(7);
  });

  it('generates unique names and refuses duplicates and unknown inputs', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1]);
    const names = [g.uniqueName('t'), g.uniqueName('t'), g.uniqueName('t'), g.uniqueName('t_1')];
    expect(new Set(names).size).toBe(4);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
    expect(() => g.op('Relu', ['nope'], { elemType: 'float32' })).toThrow(/unknown input value 'nope'/);
    const a = g.op('Relu', [x], { elemType: 'float32', shape: [1] });
    const b = g.op('Relu', [x], { elemType: 'float32', shape: [1] });
    expect(a).not.toBe(b);
    expect(() => g.op('Relu', [x], { elemType: 'float32', name: a })).toThrow(/already used/);
  });

  it('records the declared shape of every value and writes them as value_info', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [4, 5]);
    const t = g.op('Transpose', [x], { elemType: 'float32', shape: [5, 4], name: 'xt' }, { attrs: { perm: attr.ints([1, 0]) } });
    const u = g.op('Unsqueeze', [t, g.constInt64([0], [1])], { elemType: 'float32', shape: [1, 5, 4], name: 'xu' });
    g.output(u);
    expect(g.valueInfo('xt')).toEqual({ name: 'xt', elemType: 'float32', shape: [5, 4], role: 'intermediate' });
    expect(g.values().map((v) => [v.name, staticSize(v.shape)])).toEqual([
      ['x', 20],
      ['xt', 20],
      [expect.any(String), 1],
      ['xu', 20],
    ]);
    const m = decodeModel(g.toModelBytes());
    // Intermediates go to value_info; graph outputs are declared as outputs instead.
    expect((m.graph?.valueInfo ?? []).map((v) => v.name)).toEqual(['xt']);
    expect((m.graph?.output ?? [])[0]?.type?.tensorType?.shape?.dim?.map((d) => int(d.dimValue))).toEqual([1, 5, 4]);
  });

  it('staticSize is undefined for symbolic or unknown shapes', () => {
    expect(staticSize([2, 3])).toBe(6);
    expect(staticSize([])).toBe(1);
    expect(staticSize(['n', 3])).toBeUndefined();
    expect(staticSize(undefined)).toBeUndefined();
  });
});
