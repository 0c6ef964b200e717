import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { OpsetAdaptError, REDUCE_AXES_INPUT_SINCE_18, adaptModelToOpset, adaptNodesToOpset } from './opsetAdapt';

const { onnx } = pkg;
const T = onnx.AttributeProto.AttributeType;

function node(opType: string, input: string[], output: string[], attribute: OnnxTypes.IAttributeProto[] = [], domain = ''): OnnxTypes.NodeProto {
  return onnx.NodeProto.create({ name: `${opType}_0`, opType, domain, input, output, attribute });
}
const ints = (name: string, v: number[]): OnnxTypes.IAttributeProto => ({ name, type: T.INTS, ints: v });
const int = (name: string, v: number): OnnxTypes.IAttributeProto => ({ name, type: T.INT, i: v });

function collect(): { add: (hint: string, values: readonly number[]) => string; added: { name: string; values: readonly number[] }[] } {
  const added: { name: string; values: readonly number[] }[] = [];
  return {
    added,
    add: (hint, values) => {
      const name = `${hint}#${added.length}`;
      added.push({ name, values: [...values] });
      return name;
    },
  };
}

describe('adaptNodesToOpset', () => {
  const graph = (): OnnxTypes.NodeProto[] => [
    node('ReduceMax', ['x'], ['m'], [ints('axes', [-1]), int('keepdims', 1)]),
    node('Sub', ['x', 'm'], ['d']),
    node('ReduceSum', ['d', 'ax'], ['s'], [int('keepdims', 0)]),
    node('ReduceSumSquare', ['x'], ['q'], [ints('axes', [1, 2]), int('keepdims', 0)]),
    node('ReduceMean', ['x'], ['all'], [int('keepdims', 0)]),
    node('ReduceMax', ['x'], ['ms'], [ints('axes', [0])], 'com.example'),
  ];

  it('from 17 to 18..23: Reduce* axes attributes become int64 initializer inputs; nothing else changes', () => {
    for (const to of [18, 20, 23]) {
      const nodes = graph();
      const { add, added } = collect();
      const out = adaptNodesToOpset(nodes, 17, to, add);
      expect(out).toHaveLength(nodes.length);
      expect(added.map((a) => a.values)).toEqual([[-1], [1, 2]]);
      const [max, sub, sum, sq, mean, other] = out as [OnnxTypes.INodeProto, OnnxTypes.INodeProto, OnnxTypes.INodeProto, OnnxTypes.INodeProto, OnnxTypes.INodeProto, OnnxTypes.INodeProto];
      expect(max.input).toEqual(['x', added[0]?.name]);
      expect(max.attribute?.map((a) => a.name)).toEqual(['keepdims']);
      expect(max.output).toEqual(['m']);
      expect(sq.input).toEqual(['x', added[1]?.name]);
      expect(sq.attribute?.map((a) => a.name)).toEqual(['keepdims']);
      // Unchanged nodes are passed through; no axes attribute means "all axes" in both forms.
      expect(sub).toBe(nodes[1]);
      expect(sum).toBe(nodes[2]);
      expect(mean).toBe(nodes[4]);
      // Other domains are left alone.
      expect(other).toBe(nodes[5]);
      // The input nodes are not modified.
      expect(nodes[0]?.input).toEqual(['x']);
      expect(nodes[0]?.attribute?.map((a) => a.name)).toEqual(['axes', 'keepdims']);
    }
  });

  it('within 13..17 and at the same opset nothing changes', () => {
    const nodes = graph();
    const { add, added } = collect();
    expect(adaptNodesToOpset(nodes, 13, 17, add)).toEqual(nodes);
    expect(adaptNodesToOpset(nodes, 23, 23, add)).toEqual(nodes);
    expect(added).toHaveLength(0);
  });

  it('covers every Reduce op whose axes became an input at 18', () => {
    for (const op of REDUCE_AXES_INPUT_SINCE_18) {
      const { add, added } = collect();
      const [n] = adaptNodesToOpset([node(op, ['x'], ['y'], [ints('axes', [2])])], 16, 19, add);
      expect(n?.input).toEqual(['x', added[0]?.name]);
      expect(n?.attribute ?? []).toHaveLength(0);
    }
  });

  it('converts subgraphs of control-flow nodes', () => {
    const body = onnx.GraphProto.create({ name: 'body', node: [node('ReduceMin', ['x'], ['y'], [ints('axes', [0])])] });
    const { add, added } = collect();
    const [n] = adaptNodesToOpset([node('If', ['c'], ['y'], [{ name: 'then_branch', type: T.GRAPH, g: body }])], 17, 18, add);
    expect(n?.attribute?.[0]?.g?.node?.[0]?.input).toEqual(['x', added[0]?.name]);
    expect(body.node[0]?.input).toEqual(['x']);
  });

  it('refuses opsets outside 13..23, downgrades, and ops it does not convert', () => {
    const { add } = collect();
    expect(() => adaptNodesToOpset([], 12, 17, add)).toThrow(/source opset 12 is outside the supported range 13..23/);
    expect(() => adaptNodesToOpset([], 17, 24, add)).toThrow(/target opset 24 is outside the supported range 13..23/);
    expect(() => adaptNodesToOpset([], 18, 17, add)).toThrow(OpsetAdaptError);
    expect(() => adaptNodesToOpset([node('GroupNormalization', ['x', 's', 'b'], ['y'])], 17, 21, add)).toThrow(/GroupNormalization changed meaning at opset 21/);
    expect(adaptNodesToOpset([node('GroupNormalization', ['x', 's', 'b'], ['y'])], 17, 20, add)).toHaveLength(1);
  });
});

describe('adaptModelToOpset', () => {
  it('adds the axes initializers under fresh names and sets the default opset import', () => {
    const model = onnx.ModelProto.create({
      irVersion: 10,
      opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
      graph: { name: 'g', node: [node('ReduceMax', ['x'], ['ReduceMax_0/axes'], [ints('axes', [1])])], input: [{ name: 'x' }], output: [{ name: 'ReduceMax_0/axes' }] },
    });
    const out = adaptModelToOpset(model, 23);
    expect(out.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 23],
      ['com.microsoft', 1],
    ]);
    const init = out.graph?.initializer?.[0];
    expect(init?.name).toBe('ReduceMax_0/axes_1');
    expect(init?.dims?.map(Number)).toEqual([1]);
    expect(Array.from(new BigInt64Array((init?.rawData ?? new Uint8Array(8)).slice().buffer))).toEqual([1n]);
    expect(out.graph?.node?.[0]?.input).toEqual(['x', 'ReduceMax_0/axes_1']);
    expect(Number(model.opsetImport[0]?.version)).toBe(17);
  });
});
