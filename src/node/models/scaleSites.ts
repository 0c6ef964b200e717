/**
 * Where an attention block's scale factors are applied (AttentionScaleSite): the scalar Div/Mul
 * nodes on Q's and K's way to the product (read as detection reads them), the Div/Mul between
 * the product and the softmax, or a fused op's scale attribute or default. Their factors multiply
 * to the block's effectiveScale.
 */
import type { AttentionBlock } from '../../common/models/attentionDetect';
import { GraphIndex } from '../../common/models/attentionDetect/graphIndex';
import { operandScales } from '../../common/models/attentionDetect/unfused/prescaledQ';
import type { AttentionScaleSite } from '../../common/models/attentionScale';
import type { ModelProto } from '../../common/models/onnxModel';
import { floatAttribute } from '../../common/models/onnxModel';

function operandSites(g: GraphIndex, value: string | undefined, on: 'q' | 'k'): AttentionScaleSite[] {
  if (value === undefined) return [];
  return operandScales(g, value).map((s) => ({ on, op: s.node.opType === 'Div' ? 'div' : 'mul', factor: s.factor }));
}

/** The scale sites of one block: Q's, then K's (nearest the product first), then the scores'. */
export function blockScaleSites(g: GraphIndex, b: AttentionBlock): AttentionScaleSite[] {
  if (b.form !== 'unfused') {
    const node = b.nodes.fused === undefined ? undefined : g.node(b.nodes.fused.index);
    const attr = node === undefined ? undefined : floatAttribute(node, 'scale');
    return [{ on: 'fused', op: attr !== undefined && attr !== 0 ? 'attribute' : 'default', factor: b.effectiveScale }];
  }
  const sites = [...operandSites(g, b.values.q, 'q'), ...operandSites(g, b.values.k, 'k')];
  if (b.scaling === 'div' || b.scaling === 'mul') sites.push({ on: 'scores', op: b.scaling, factor: b.scale });
  return sites;
}

/** The scale sites of each block of the model. */
export function modelScaleSites(model: ModelProto, blocks: readonly AttentionBlock[]): AttentionScaleSite[][] {
  if (blocks.length === 0) return [];
  const g = new GraphIndex(model);
  return blocks.map((b) => blockScaleSites(g, b));
}
