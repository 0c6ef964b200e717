/** Choosing the blocks an operation names, and checking that a block has what the operation needs. */
import type { AttentionBlock } from '../attentionDetect';
import type { GraphEditor } from './graphEditor';
import { SurgeryError } from './modification';

export function describeBlock(b: AttentionBlock): string {
  const node = b.nodes.fused ?? b.nodes.softmax;
  return `block ${b.index} (${b.form}${node !== undefined ? `, node '${node.name || `#${node.index}`}'` : ''})`;
}

export function chooseLayers(blocks: readonly AttentionBlock[], layers: readonly number[] | undefined, what: string): AttentionBlock[] {
  if (blocks.length === 0) throw new SurgeryError(`${what}: the model has no attention blocks`);
  if (layers === undefined) return [...blocks];
  const chosen: AttentionBlock[] = [];
  for (const l of layers) {
    const b = blocks[l];
    if (b === undefined) throw new SurgeryError(`${what}: layer ${l} does not exist: the model has ${blocks.length} attention block(s), layers 0..${blocks.length - 1}`);
    if (!chosen.includes(b)) chosen.push(b);
  }
  return chosen;
}

export function requireUnfused(b: AttentionBlock, what: string): void {
  if (b.form !== 'unfused') {
    throw new SurgeryError(
      `${what}: ${describeBlock(b)} is a fused ${b.form} node; only unfused attention (explicit Q·Kᵀ MatMul, Softmax, ·V MatMul) can be exposed, replaced or intervened on`,
    );
  }
}

export function requireHeads(b: AttentionBlock, what: string): number {
  if (b.heads === null) throw new SurgeryError(`${what}: the number of heads of ${describeBlock(b)} could not be determined from the graph`);
  return b.heads;
}

export function checkHeads(b: AttentionBlock, heads: readonly number[] | undefined, what: string): void {
  if (heads === undefined) return;
  const H = requireHeads(b, what);
  for (const h of heads) {
    if (h >= H) throw new SurgeryError(`${what}: head ${h} is out of range for layer ${b.index}, which has ${H} heads (0..${H - 1})`);
  }
}

export function requireCausalKnown(b: AttentionBlock, what: string): boolean {
  if (b.causal === 'unknown') {
    throw new SurgeryError(`${what}: ${describeBlock(b)} is masked by a graph input, so whether each key is allowed is not known from the graph`);
  }
  return b.causal;
}

/** bool [1, H, 1, 1]: true on the chosen heads. */
export function headMask(ed: GraphEditor, H: number, heads: readonly number[], hint: string): string {
  return ed.constBool(hint, [1, H, 1, 1], Array.from({ length: H }, (_, h) => heads.includes(h)));
}

/**
 * How many keys (the first ones) query i of Sq may attend to among Sk: all, or for a causal block
 * those up to its own position, the queries being the last Sq of the Sk positions (after a past).
 */
export function allowedKeys(causal: boolean, i: number, seqQ: number, seqK: number): number {
  return causal ? Math.max(0, Math.min(i + 1 + seqK - seqQ, seqK)) : seqK;
}

/** The layers named by an `exposeAttention`-style option: true for every block, a non-empty list, else none. */
export function flagLayers(option: boolean | readonly number[]): readonly number[] | undefined | 'none' {
  if (option === true) return undefined;
  return Array.isArray(option) && option.length > 0 ? option : 'none';
}
