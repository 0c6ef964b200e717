import type { ModelProto } from '../onnxModel';
import { ATTENTION_FORMS } from './forms';
import { GraphIndex } from './graphIndex';
import type { AttentionBlock, FoundBlock } from './types';

const DETECTORS = Object.values(ATTENTION_FORMS);

/** Every attention block of the model, in topological (layer) order. */
export function findAttentionBlocks(model: ModelProto): AttentionBlock[] {
  const g = new GraphIndex(model);
  const found: { rank: number; block: FoundBlock }[] = [];
  g.nodes.forEach((n, i) => {
    const block = DETECTORS.find((d) => d.anchors(n))?.detect(g, i);
    if (block !== undefined) found.push({ rank: g.rank.get(i) ?? i, block });
  });
  found.sort((a, b) => a.rank - b.rank);
  return found.map((f, index) => ({ index, ...f.block }));
}
