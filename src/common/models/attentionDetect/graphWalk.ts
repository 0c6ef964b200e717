/** Small graph-walking helpers shared by the attention forms. */
import type { DimValue, NodeProto } from '../onnxModel';
import { intsAttribute } from '../onnxModel';
import type { GraphIndex } from './graphIndex';

export function perm(node: NodeProto): number[] | undefined {
  return intsAttribute(node, 'perm');
}

export function positive(x: DimValue | undefined): number | null {
  return typeof x === 'number' && x > 0 ? x : null;
}

/** Input `i` of a node, undefined where it is absent or empty (an omitted optional input). */
export function nodeInput(node: NodeProto, i: number): string | undefined {
  const v = node.input?.[i];
  return v === undefined || v === '' ? undefined : v;
}

/** A shape vector from a constant or a Concat of constants and unknown scalars. */
export function shapeVector(g: GraphIndex, value: string): (number | null)[] | undefined {
  const c = g.constValue(value, 16);
  if (c !== undefined) return [...c.values];
  const p = g.producerOf(value);
  if (p?.opType !== 'Concat') return undefined;
  const out: (number | null)[] = [];
  for (const i of p.input ?? []) {
    const part = g.constValue(i, 16);
    if (part !== undefined) out.push(...part.values);
    else {
      const s = g.shapeOf(i);
      if (g.producerOf(i)?.opType === 'Unsqueeze' || (s !== undefined && s.length === 1 && s[0] === 1)) out.push(null);
      else return undefined;
    }
  }
  return out;
}

const STOP_BACKWARD = new Set(['MatMul', 'Gemm', 'Softmax', 'LayerNormalization', 'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'Conv', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention']);

/** Nodes reachable backwards from `value` without passing MatMul-like ops or Shape inputs (bounded). */
export function regionBehind(g: GraphIndex, value: string, limit: number, stopAt: ReadonlySet<string> = STOP_BACKWARD): { nodes: NodeProto[]; reachedInputs: boolean } {
  const seen = new Set<number>();
  const out: NodeProto[] = [];
  let reachedInputs = false;
  const queue: string[] = [value];
  while (queue.length > 0 && out.length < limit) {
    const v = queue.shift() as string;
    if (g.graphInputs.has(v)) reachedInputs = true;
    const i = g.producer.get(v);
    if (i === undefined || seen.has(i)) continue;
    seen.add(i);
    const n = g.node(i);
    out.push(n);
    const op = n.opType ?? '';
    if (stopAt.has(op) || op === 'Shape' || op === 'Size') continue;
    for (const inp of n.input ?? []) if (inp !== '') queue.push(inp);
  }
  return { nodes: out, reachedInputs };
}

/** Is the node in the default ONNX domain ('' or 'ai.onnx')? */
export function inOnnxDomain(node: NodeProto): boolean {
  const domain = node.domain ?? '';
  return domain === '' || domain === 'ai.onnx';
}

export const MICROSOFT_DOMAIN = 'com.microsoft';

/** Is the node the com.microsoft contrib op `opType`? */
export function isMicrosoftOp(node: NodeProto, opType: string): boolean {
  return (node.domain ?? '') === MICROSOFT_DOMAIN && node.opType === opType;
}
