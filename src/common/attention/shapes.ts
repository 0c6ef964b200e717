/**
 * Shape rules for attention inputs:
 *   Q [B, H, Sq, D], K [B, Hkv, Sk, D], V [B, Hkv, Sk, Dv]
 * Hkv must divide H (grouped-query attention): query head h reads kv head floor(h / (H / Hkv)).
 */

export interface AttentionDims {
  readonly batch: number;
  /** Query heads H. */
  readonly heads: number;
  /** Key/value heads Hkv (divides H). */
  readonly kvHeads: number;
  readonly seqQ: number;
  readonly seqK: number;
  /** Query/key head size D. */
  readonly headDim: number;
  /** Value head size Dv. */
  readonly valueDim: number;
}

export type AttentionOperand = 'q' | 'k' | 'v';

/** A shape problem, with the operand it is about (so callers can name the file it came from). */
export class AttentionShapeError extends Error {
  constructor(
    readonly operand: AttentionOperand,
    message: string,
  ) {
    super(message);
    this.name = 'AttentionShapeError';
  }
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function checkRank(operand: AttentionOperand, shape: readonly number[], layout: string): void {
  const label = operand.toUpperCase();
  if (shape.length !== 4) {
    throw new AttentionShapeError(operand, `${label} has shape ${fmt(shape)}: rank ${shape.length}, expected 4 ${layout}`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 1) {
      throw new AttentionShapeError(operand, `${label} has shape ${fmt(shape)}: every dimension must be at least 1`);
    }
  }
}

/** Validate Q/K/V shapes and return the attention dimensions. */
export function validateAttentionShapes(q: readonly number[], k: readonly number[], v: readonly number[]): AttentionDims {
  checkRank('q', q, '[B,H,S,D]');
  checkRank('k', k, '[B,Hkv,S,D]');
  checkRank('v', v, '[B,Hkv,S,Dv]');
  const [b, h, sq, d] = q as [number, number, number, number];
  const [kb, hkv, sk, kd] = k as [number, number, number, number];
  const [vb, vh, vs, dv] = v as [number, number, number, number];
  if (kb !== b) throw new AttentionShapeError('k', `K has batch size ${kb} but Q has ${b}`);
  if (vb !== b) throw new AttentionShapeError('v', `V has batch size ${vb} but Q has ${b}`);
  if (kd !== d) throw new AttentionShapeError('k', `K has head size ${kd} but Q has ${d}: Q and K head sizes must match`);
  if (h % hkv !== 0) {
    throw new AttentionShapeError('k', `K has ${hkv} heads but Q has ${h}: K/V heads must divide Q heads`);
  }
  if (vh !== hkv) throw new AttentionShapeError('v', `V has ${vh} heads but K has ${hkv}: K and V must have the same number of heads`);
  if (vs !== sk) throw new AttentionShapeError('v', `K and V sequence lengths differ: K has ${sk}, V has ${vs}`);
  return { batch: b, heads: h, kvHeads: hkv, seqQ: sq, seqK: sk, headDim: d, valueDim: dv };
}

/** Check dims built by hand (e.g. from an experiment spec). */
export function checkAttentionDims(dims: AttentionDims): AttentionDims {
  return validateAttentionShapes(qShape(dims), kShape(dims), vShape(dims));
}

export const qShape = (d: AttentionDims): number[] => [d.batch, d.heads, d.seqQ, d.headDim];
export const kShape = (d: AttentionDims): number[] => [d.batch, d.kvHeads, d.seqK, d.headDim];
export const vShape = (d: AttentionDims): number[] => [d.batch, d.kvHeads, d.seqK, d.valueDim];
export const outputShape = (d: AttentionDims): number[] => [d.batch, d.heads, d.seqQ, d.valueDim];
