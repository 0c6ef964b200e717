/**
 * Rewriting fused attention blocks (com.microsoft MultiHeadAttention and GroupQueryAttention, ONNX
 * Attention) into the explicit form that the other operations edit. What each form supports is in
 * ./unfuseForms.ts; anything else is refused with an error naming the block.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { AttentionBlock } from '../../attentionDetect';
import type { ModelProto, NodeProto } from '../../onnxModel';
import { describeBlock } from '../blocks';
import { GraphEditor, editedGraph } from '../graphEditor';
import type { SurgeryShape } from '../modification';
import { SurgeryError } from '../modification';
import { writeExplicitAttention } from './explicitAttention';
import { UNFUSE_FORMS, fusedNodeReader } from './unfuseForms';

const { onnx } = pkg;

/** Rewrite one fused block before its node and remove the node. */
function unfuseBlock(ed: GraphEditor, b: AttentionBlock, shape: SurgeryShape, usedValues: ReadonlySet<string>): void {
  const ref = b.nodes.fused;
  if (ref === undefined || b.form === 'unfused') return;
  const node = ed.nodes[ref.index] as NodeProto;
  const what = `rewriting ${describeBlock(b)} into explicit attention`;
  const fail = (why: string): never => {
    throw new SurgeryError(`${what}: ${why}`);
  };
  // Extra outputs (present K/V, QK output) must be unused.
  (node.output ?? []).slice(1).forEach((o) => {
    if (o !== '' && usedValues.has(o)) fail(`its output '${o}' (past/present state or scores) is used; only the attention output can be rewritten`);
  });
  const form = UNFUSE_FORMS[b.form];
  if (!form.supported) throw new SurgeryError(`${what}: ${form.why}`);
  const H = b.heads ?? fail('the number of heads is unknown');
  const KV = b.kvHeads ?? fail('the number of key/value heads is unknown');
  const D = b.headSize ?? fail('the head size is unknown');
  const reader = fusedNodeReader(node, fail);
  const q = reader.input(0);
  const k = reader.input(1);
  const v = reader.input(2);
  if (q === undefined || k === undefined || v === undefined) throw new SurgeryError(`${what}: Q, K and V must be separate inputs (packed QKV is not supported)`);
  const explicit = { ...form.read(reader), q, k, v, output: node.output?.[0] ?? '', heads: H, kvHeads: KV, headSize: D, scale: reader.attrF('scale') };
  writeExplicitAttention(ed, ref.index, `surgery/unfused${b.index}/`, shape, explicit, fail);
  ed.remove(ref.index);
}

/**
 * Rewrite the chosen fused blocks into the explicit form (Reshape/Transpose to heads, grouped-query
 * K/V expansion, Q·Kᵀ MatMul, scale, causal/bias mask Add, Softmax, ·V MatMul, back to
 * [B, S, H·D]) with static batch and sequence length.
 */
export function unfuse(model: ModelProto, chosen: readonly AttentionBlock[], shape: SurgeryShape): ModelProto {
  const graph = model.graph as OnnxTypes.IGraphProto;
  const ed = new GraphEditor(graph);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const consumed = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
  const usedValues = new Set([...graphOutputs, ...consumed]);
  for (const b of chosen) unfuseBlock(ed, b, shape, usedValues);
  return onnx.ModelProto.create({ ...model, graph: editedGraph(graph, ed) });
}
