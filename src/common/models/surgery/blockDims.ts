/**
 * Each block's query and key lengths in the model surgery builds, inferred from the shapes of the
 * graph inputs (`SurgeryShape.inputs`): a decoder's self-attention over its own tokens, its
 * cross-attention from those tokens over the encoder's, a block with a past whose keys are the
 * past and the new tokens. Without them, the inputs' declared dimensions are read as batch
 * (a name with "batch"), an empty past (a name with "past") and seqLen (any other name), so that
 * every block attends from seqLen queries over seqLen keys; where that cannot be inferred, it is
 * assumed.
 */
import type { AttentionBlock } from '../attentionDetect';
import { GraphIndex } from '../attentionDetect/graphIndex';
import type { ModelProto } from '../onnxModel';
import { describeBlock } from './blocks';
import type { SurgeryShape } from './modification';
import { SurgeryError } from './modification';
import { inferShapes } from './shapeInference';

export interface BlockDims {
  /** Queries (Sq) and keys (Sk) of the block's scores [.., Sq, Sk]. */
  readonly seqQ: number;
  readonly seqK: number;
  /** The rank of the block's mask where known (3 for a mask per batch·head, [B·H, 1, Sk]). */
  readonly maskRank?: number;
  /** The size of V's heads where inferred (it may differ from Q's and K's: qkv_hidden_sizes). */
  readonly valueDim?: number;
}

/** Concrete input shapes from the declared ones, for a modification given only batch and seqLen. */
function declaredInputs(g: GraphIndex, shape: SurgeryShape): Record<string, number[]> {
  const size = (d: number | string | null): number => {
    if (typeof d === 'number' && d >= 0) return d;
    if (typeof d !== 'string') return shape.seqLen;
    const terms = d.split('+').map((t) => t.trim());
    return terms.reduce((sum, t) => sum + (/batch/i.test(t) ? shape.batch : /past/i.test(t) ? 0 : shape.seqLen), 0);
  };
  const out: Record<string, number[]> = {};
  for (const name of g.graphInputs) {
    const dims = g.shapeOf(name);
    if (dims !== undefined) out[name] = dims.map(size);
  }
  return out;
}

function checkInputs(model: ModelProto, inputs: Readonly<Record<string, readonly number[]>>): void {
  const g = new GraphIndex(model);
  for (const [name, dims] of Object.entries(inputs)) {
    if (!g.graphInputs.has(name)) throw new SurgeryError(`shape.inputs names '${name}', which is not an input of the model (its inputs: ${[...g.graphInputs].join(', ')})`);
    if (!Array.isArray(dims) || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new SurgeryError(`shape.inputs['${name}'] must be a list of non-negative integers, got ${JSON.stringify(dims)}`);
    const declared = g.shapeOf(name);
    if (declared !== undefined && declared.length !== dims.length) throw new SurgeryError(`shape.inputs['${name}'] has ${dims.length} dimension(s); the model declares ${declared.length}`);
  }
}

/** The query and key lengths of every block, by block index. */
export function blockDims(model: ModelProto, blocks: readonly AttentionBlock[], shape: SurgeryShape): Map<number, BlockDims> {
  const out = new Map<number, BlockDims>();
  const g = new GraphIndex(model);
  if (shape.inputs !== undefined) checkInputs(model, shape.inputs);
  const inputs = shape.inputs ?? declaredInputs(g, shape);
  const order = [...g.rank.entries()].sort((a, b) => a[1] - b[1]).map(([i]) => i);
  const shapes = inferShapes(model, inputs, order);
  for (const b of blocks) {
    const scores = b.form === 'unfused' ? b.values.scores : undefined;
    const dims = scores === undefined ? undefined : shapes.get(scores)?.dims;
    const maskRank = b.values.mask === undefined ? undefined : shapes.get(b.values.mask)?.dims.length;
    const vDims = b.values.v === undefined ? undefined : shapes.get(b.values.v)?.dims;
    const valueDim = vDims !== undefined && vDims.length >= 3 ? vDims[vDims.length - 1] : undefined;
    if (dims === undefined || dims.length < 2) {
      if (b.form !== 'unfused' || shape.inputs === undefined) {
        out.set(b.index, { seqQ: shape.seqLen, seqK: shape.seqLen, ...(maskRank !== undefined ? { maskRank } : {}) });
        continue;
      }
      throw new SurgeryError(`${describeBlock(b)}: the shape of its scores could not be inferred from the input shapes ${JSON.stringify(inputs)}, so its query and key lengths are not known (an input is missing from shape.inputs, or an op on the way is not one shape inference knows)`);
    }
    out.set(b.index, { seqQ: dims[dims.length - 2] as number, seqK: dims[dims.length - 1] as number, ...(maskRank !== undefined ? { maskRank } : {}), ...(valueDim !== undefined ? { valueDim } : {}) });
  }
  return out;
}
