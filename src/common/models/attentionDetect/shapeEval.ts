/**
 * Folding the small computations exports write over shapes: the score scale
 * 1/√(Shape(v)[-1]) as Hugging Face's GPT-2 exports it, a head count read from a Reshape target.
 * Shapes come from declared value shapes and from Reshape targets and Transposes on the way; a
 * value that depends on an unknown dimension does not fold.
 */
import { decodeTensorValues, intsAttribute } from '../onnxModel';
import type { GraphIndex } from './graphIndex';
import { shapeVector } from './graphWalk';

const MAX_DEPTH = 16;

/** The static shape of a value where known (a dimension null where not), through layout and elementwise ops. */
export function staticShape(g: GraphIndex, value: string, depth = 0): (number | null)[] | undefined {
  const declared = g.shapeOf(value);
  if (declared !== undefined) return declared.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
  const p = g.producerOf(value);
  if (p === undefined || depth > MAX_DEPTH) return undefined;
  const op = p.opType ?? '';
  const input = p.input?.[0] ?? '';
  if (op === 'Reshape') {
    const t = shapeVector(g, p.input?.[1] ?? '');
    return t?.map((d) => (d !== null && d > 0 ? d : null));
  }
  if (op === 'Transpose') {
    const s = staticShape(g, input, depth + 1);
    const perm = intsAttribute(p, 'perm');
    if (s === undefined) return undefined;
    if (perm === undefined || perm.length === 0) return [...s].reverse();
    return perm.map((i) => s[i] ?? null);
  }
  if (['Cast', 'Identity', 'Softmax', 'Dropout', 'Neg', 'Sqrt'].includes(op)) return staticShape(g, input, depth + 1);
  return undefined;
}

function sliceValues(values: readonly number[], starts: number, ends: number, step: number): number[] {
  const n = values.length;
  const clamp = (x: number): number => Math.max(0, Math.min(n, x < 0 ? x + n : x));
  const out: number[] = [];
  if (step > 0) for (let i = clamp(starts); i < clamp(ends); i += step) out.push(values[i] as number);
  return out;
}

/** The values of a small integer/float computation over constants and shapes, or undefined where it does not fold. */
export function foldSmall(g: GraphIndex, value: string, depth = 0): number[] | undefined {
  const c = g.constValue(value, 16);
  if (c !== undefined) return [...c.values];
  const p = g.producerOf(value);
  if (p === undefined || depth > MAX_DEPTH) return undefined;
  const op = p.opType ?? '';
  const ins = p.input ?? [];
  const arg = (i: number): number[] | undefined => (ins[i] === undefined || ins[i] === '' ? undefined : foldSmall(g, ins[i] as string, depth + 1));
  if (op === 'Shape') {
    const s = staticShape(g, ins[0] ?? '', depth + 1);
    if (s === undefined) return undefined;
    const start = p.attribute?.find((a) => a.name === 'start');
    const end = p.attribute?.find((a) => a.name === 'end');
    const picked = sliceValues(s.map((d) => d ?? NaN), start === undefined ? 0 : Number(start.i ?? 0), end === undefined ? s.length : Number(end.i ?? s.length), 1);
    return picked.some((d) => Number.isNaN(d)) ? undefined : picked;
  }
  if (op === 'Slice') {
    // The data may hold unknown dimensions outside the slice: fold the Shape as NaN-marked values.
    const data = ins[0] === undefined ? undefined : shapeOrValues(g, ins[0], depth + 1);
    const [starts, ends] = [arg(1), arg(2)];
    const steps = ins[4] !== undefined && ins[4] !== '' ? arg(4) : [1];
    if (data === undefined || starts?.length !== 1 || ends?.length !== 1 || steps?.length !== 1) return undefined;
    const out = sliceValues(data, starts[0] as number, Math.min(ends[0] as number, 1 << 30), steps[0] as number);
    return out.some((d) => Number.isNaN(d)) ? undefined : out;
  }
  if (op === 'Gather') {
    const data = ins[0] === undefined ? undefined : shapeOrValues(g, ins[0], depth + 1);
    const idx = arg(1);
    if (data === undefined || idx?.length !== 1) return undefined;
    const i = idx[0] as number;
    const x = data[i < 0 ? i + data.length : i];
    return x === undefined || Number.isNaN(x) ? undefined : [x];
  }
  if (['Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Reshape'].includes(op)) return arg(0);
  if (op === 'ConstantOfShape') {
    const shape = arg(0);
    const t = p.attribute?.find((a) => a.name === 'value')?.t;
    const fill = t === null || t === undefined ? 0 : (decodeTensorValues(t, 1)?.values[0] ?? 0);
    return shape !== undefined && shape.reduce((a, b) => a * b, 1) === 1 ? [fill] : undefined;
  }
  if (op === 'Sqrt' || op === 'Reciprocal') {
    const a = arg(0);
    return a?.map((x) => (op === 'Sqrt' ? Math.sqrt(x) : 1 / x));
  }
  const binary: Record<string, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: (a, b) => a ** b };
  const f = binary[op];
  if (f !== undefined) {
    const [a, b] = [arg(0), arg(1)];
    if (a === undefined || b === undefined || (a.length !== 1 && b.length !== 1 && a.length !== b.length)) return undefined;
    const n = Math.max(a.length, b.length);
    return Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i] as number, b[b.length === 1 ? 0 : i] as number));
  }
  return undefined;
}

/** A Shape's dimensions with NaN for unknown ones (so a Slice or Gather can pick the known ones), else folded values. */
function shapeOrValues(g: GraphIndex, value: string, depth: number): number[] | undefined {
  const p = g.producerOf(value);
  if (p?.opType === 'Shape' && p.attribute?.every((a) => a.name !== 'start' && a.name !== 'end') !== false) {
    return staticShape(g, p.input?.[0] ?? '', depth + 1)?.map((d) => d ?? NaN);
  }
  return foldSmall(g, value, depth);
}
