/**
 * cutAtEmbeddings: the token-embedding Gather's output becomes a new graph input `embeddings`
 * [B, S, dim]; Shape() uses of the ids read the embeddings' leading dims instead (opset ≥ 15), and
 * other uses of the ids keep them as an input. On its own it leaves the model's shapes symbolic.
 * `embeddings` is float32 (cast inside to a float16 table's type).
 */
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { NodeProto } from '../onnxModel';
import { defaultOpset, int64ToNumber } from '../onnxModel';
import { FLOAT, FLOAT16, intAttr, tensorInfo } from './graphEditor';
import { EMBEDDINGS_INPUT, SurgeryError } from './modification';
import type { SurgeryContext } from './operation';

/** Ops that carry token ids through unchanged in value (GPT-2 exports view input_ids as [-1, S] first). */
const ID_CARRIERS: ReadonlySet<string> = new Set(['Reshape', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten']);

/**
 * The graph input whose ids `value` holds: `value` itself when it is one of `inputs`, or the
 * input reached back through value-preserving ops (Reshape, Cast, …; their first input).
 */
export function tokenIdsSource(nodes: readonly NodeProto[], value: string, inputs: ReadonlySet<string>): string | undefined {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  let at = value;
  for (let hops = 0; hops < 8; hops++) {
    if (inputs.has(at)) return at;
    const p = producer.get(at);
    if (p === undefined || (p.domain ?? '') !== '' || !ID_CARRIERS.has(p.opType ?? '')) return undefined;
    at = p.input?.[0] ?? '';
  }
  return undefined;
}

export function cutAtEmbeddings(ctx: SurgeryContext): void {
  const { ed, model, notes, addedInputs, removedInputs } = ctx;
  const inits = new Map(ed.initializers.map((t) => [t.name ?? '', t]));
  const integerInputs = new Map<string, OnnxTypes.IValueInfoProto>();
  for (const vi of ed.inputs) {
    const t = vi.type?.tensorType?.elemType ?? 0;
    if (!inits.has(vi.name ?? '') && [2, 3, 4, 5, 6, 7, 12, 13].includes(t)) integerInputs.set(vi.name ?? '', vi);
  }
  const intNames = new Set(integerInputs.keys());
  const index = ed.nodes.findIndex((n) => {
    if (n.opType !== 'Gather' || (n.domain ?? '') !== '' || (n.attribute ?? []).some((a) => a.name === 'axis' && int64ToNumber(a.i) !== 0)) return false;
    const table = inits.get(n.input?.[0] ?? '');
    return table !== undefined && (table.dims ?? []).length === 2 && (table.dataType === FLOAT || table.dataType === FLOAT16) && tokenIdsSource(ed.nodes, n.input?.[1] ?? '', intNames) !== undefined;
  });
  if (index < 0) {
    throw new SurgeryError('cutAtEmbeddings: no token-embedding lookup found (looked for a Gather, axis 0, of a float32 or float16 [vocab, dim] initializer by an integer graph input, directly or through Reshape/Cast/Squeeze/Unsqueeze)');
  }
  const gather = ed.nodes[index] as NodeProto;
  const ids = tokenIdsSource(ed.nodes, gather.input?.[1] ?? '', intNames) as string;
  const embOut = gather.output?.[0] ?? '';
  const table = inits.get(gather.input?.[0] ?? '') as OnnxTypes.ITensorProto;
  const dim = int64ToNumber((table.dims ?? [])[1]);
  const idsInfo = integerInputs.get(ids) as OnnxTypes.IValueInfoProto;
  const idsDims: (number | string)[] = (idsInfo.type?.tensorType?.shape?.dim ?? []).map((d, i) =>
    d.dimParam ? d.dimParam : Object.prototype.hasOwnProperty.call(d, 'dimValue') ? int64ToNumber(d.dimValue) : `d${i}`,
  );
  const name = ed.claim(EMBEDDINGS_INPUT);
  ed.inputs.push(tensorInfo(name, FLOAT, [...idsDims, dim]));
  addedInputs.push(name);
  ed.remove(index);
  // a float16 table: the embeddings are fed as float32 and cast to it
  const embIn = table.dataType === FLOAT16 ? ed.op(index, 'Cast', [name], `${name}_float16`, [intAttr('to', FLOAT16)]) : name;
  const opset = defaultOpset(model) ?? 1;
  const idsRank = idsDims.length;
  let idsUses = 0;
  ed.nodes.forEach((n, i) => {
    if (i === index) return;
    const ins = n.input ?? [];
    if (ins.includes(embOut)) {
      const e = ed.edit(i);
      e.input = (e.input ?? []).map((x) => (x === embOut ? embIn : x));
    }
    if (!ins.includes(ids)) return;
    if (n.opType === 'Shape' && (n.domain ?? '') === '' && opset >= 15 && idsRank > 0 && ins[0] === ids) {
      const e = ed.edit(i);
      const get = (a: string): number | undefined => {
        const at = (e.attribute ?? []).find((x) => x.name === a);
        return at === undefined ? undefined : int64ToNumber(at.i);
      };
      const start = get('start') ?? 0;
      const end = get('end') ?? idsRank;
      const norm = (x: number): number => Math.min(Math.max(x < 0 ? x + idsRank : x, 0), idsRank);
      e.input = [name];
      e.attribute = [...(e.attribute ?? []).filter((a) => a.name !== 'start' && a.name !== 'end'), intAttr('start', norm(start)), intAttr('end', norm(end))];
      return;
    }
    idsUses++;
  });
  const isOutput = ed.outputs.some((o) => o.name === ids);
  for (const o of ed.outputs) if (o.name === embOut) throw new SurgeryError(`cutAtEmbeddings: the embedding output '${embOut}' is itself a graph output`);
  if (idsUses === 0 && !isOutput) {
    const i = ed.inputs.findIndex((v) => v.name === ids);
    ed.inputs.splice(i, 1);
    removedInputs.push(ids);
    notes.push(`cut at the embedding lookup of '${ids}': the model now takes '${name}' [${[...idsDims, dim].join(', ')}] instead`);
  } else {
    notes.push(`cut at the embedding lookup of '${ids}': the model takes '${name}' [${[...idsDims, dim].join(', ')}] and still takes '${ids}' (${idsUses} other use(s))`);
  }
}
