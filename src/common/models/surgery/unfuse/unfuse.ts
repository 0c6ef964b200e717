/**
 * Rewriting fused attention blocks (com.microsoft Attention, MultiHeadAttention and
 * GroupQueryAttention, ONNX Attention) into the explicit form that the other operations edit. What each form supports is in
 * ./unfuseForms.ts; anything else is refused with an error naming the block.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { AttentionBlock } from '../../attentionDetect';
import { GraphIndex } from '../../attentionDetect/graphIndex';
import type { ModelProto, NodeProto } from '../../onnxModel';
import { describeBlock } from '../blocks';
import { floatTypeOf } from '../floatType';
import { GraphEditor, editedGraph } from '../graphEditor';
import type { SurgeryShape } from '../modification';
import { SurgeryError } from '../modification';
import { writeExplicitAttention } from './explicitAttention';
import type { UnfuseSite } from './fusedNode';
import { fusedNodeReader } from './fusedNode';
import { UNFUSE_FORMS } from './unfuseForms';

const { onnx } = pkg;

/** Rewrite one fused block before its node and remove the node. */
function unfuseBlock(model: ModelProto, ed: GraphEditor, graph: GraphIndex, b: AttentionBlock, shape: SurgeryShape, usedValues: ReadonlySet<string>): void {
  const ref = b.nodes.fused;
  if (ref === undefined || b.form === 'unfused') return;
  const node = ed.nodes[ref.index] as NodeProto;
  const what = `rewriting ${describeBlock(b)} into explicit attention`;
  const fail = (why: string): never => {
    throw new SurgeryError(`${what}: ${why}`);
  };
  const form = UNFUSE_FORMS[b.form];
  if (!form.supported) throw new SurgeryError(`${what}: ${form.why}`);
  const H = b.heads ?? fail('the number of heads is unknown');
  const KV = b.kvHeads ?? fail('the number of key/value heads is unknown');
  const D = b.headSize ?? fail('the head size is unknown');
  const prefix = `surgery/unfused${b.index}/`;
  // the float type of the block's hidden states (float16 exports): every constant written meets it
  const floatType = floatTypeOf(model, (node.input ?? []).find((x) => x !== ''));
  const site: UnfuseSite = { ed, at: ref.index, prefix, shape, graph, block: b, heads: H, headSize: D, floatType };
  const reader = fusedNodeReader(node, site, fail);
  const inputs = form.read(reader);
  // Extra outputs (present K/V, QK output) must be unused, except those the rewrite writes.
  (node.output ?? []).slice(1).forEach((o) => {
    if (o !== '' && o !== inputs.present && usedValues.has(o)) fail(`its output '${o}' (past/present state or scores) is used; only the attention output can be rewritten`);
  });
  const explicit = { ...inputs, output: node.output?.[0] ?? '', heads: H, kvHeads: KV, headSize: D, scale: reader.attrF('scale') };
  writeExplicitAttention(ed, ref.index, prefix, shape, { ...explicit, floatType }, fail);
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
  const index = new GraphIndex(model);
  for (const b of chosen) unfuseBlock(model, ed, index, b, shape, usedValues);
  return onnx.ModelProto.create({ ...model, graph: editedGraph(graph, ed) });
}
