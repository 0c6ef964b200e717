/**
 * The float element type of the model's values, so that what surgery splices in meets them in
 * their type: a float16 export (onnxconverter-common, `torch.onnx.export` of a `.half()` model)
 * gets its constants in float16, variant graphs (written in float32) between Casts, and its
 * exposed outputs and injected inputs as float32 with a Cast inside.
 */
import type { ModelProto, NodeProto } from '../onnxModel';
import { intAttribute, nodeAttribute } from '../onnxModel';
import type { GraphEditor } from './graphEditor';
import { FLOAT, intAttr } from './graphEditor';
import { GraphIndex } from '../attentionDetect/graphIndex';

/** float, float16, double, bfloat16. */
const FLOAT_TYPES: ReadonlySet<number> = new Set([1, 10, 11, 16]);
/** Ops whose output is not a float whatever their inputs. */
const NOT_FLOAT_OPS: ReadonlySet<string> = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

interface TypeIndex {
  readonly g: GraphIndex;
  readonly declared: Map<string, number>;
  readonly memo: Map<string, number | undefined>;
}

const indexes = new WeakMap<ModelProto, TypeIndex>();

function typeIndex(model: ModelProto): TypeIndex {
  let t = indexes.get(model);
  if (t === undefined) {
    const graph = model.graph;
    const declared = new Map<string, number>();
    for (const v of [...(graph?.input ?? []), ...(graph?.valueInfo ?? []), ...(graph?.output ?? [])]) {
      const e = v.type?.tensorType?.elemType;
      if (v.name && e) declared.set(v.name, e);
    }
    t = { g: new GraphIndex(model), declared, memo: new Map() };
    indexes.set(model, t);
  }
  return t;
}

function producedType(t: TypeIndex, p: NodeProto, depth: number): number | undefined {
  const op = p.opType ?? '';
  if ((p.domain ?? '') === '' && op === 'Cast') return intAttribute(p, 'to');
  if (op === 'Constant' || op === 'ConstantOfShape') return nodeAttribute(p, 'value')?.t?.dataType ?? FLOAT;
  if (NOT_FLOAT_OPS.has(op)) return undefined;
  // Where(cond, x, y): the type of x and y; any other op: of its first float input
  for (const x of op === 'Where' ? (p.input ?? []).slice(1) : (p.input ?? [])) {
    const e = x === '' ? undefined : typeOf(t, x, depth + 1);
    if (e !== undefined && FLOAT_TYPES.has(e)) return e;
  }
  return undefined;
}

function typeOf(t: TypeIndex, value: string, depth: number): number | undefined {
  if (t.memo.has(value)) return t.memo.get(value);
  let e = t.declared.get(value) ?? t.g.initializers.get(value)?.dataType ?? undefined;
  if (e === undefined && depth < 200) {
    const p = t.g.producerOf(value);
    if (p !== undefined) e = producedType(t, p, depth);
  }
  t.memo.set(value, e);
  return e;
}

/** The float element type of a value of the model (FLOAT when it cannot be told). */
export function floatTypeOf(model: ModelProto | undefined, value: string | undefined): number {
  if (model === undefined || value === undefined) return FLOAT;
  const e = typeOf(typeIndex(model), value, 0);
  return e !== undefined && FLOAT_TYPES.has(e) ? e : FLOAT;
}

/** `value` (of float type `from`) as float type `to`: itself, or a Cast before node `at`. */
export function castFloat(ed: GraphEditor, at: number, value: string, from: number, to: number, hint: string): string {
  return from === to ? value : ed.op(at, 'Cast', [value], hint, [intAttr('to', to)]);
}
