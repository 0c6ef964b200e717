/**
 * A fused node being rewritten: where (the editor, the block, the surgery shape), its inputs and
 * attributes, and what its explicit graph needs (FusedAttentionInputs).
 */
import type { AttentionBlock } from '../../attentionDetect';
import type { GraphIndex } from '../../attentionDetect/graphIndex';
import type { NodeProto } from '../../onnxModel';
import { int64ToNumber } from '../../onnxModel';
import type { GraphEditor } from '../graphEditor';
import type { SurgeryShape } from '../modification';

/** Where a fused block is rewritten: before node `at` of the editor, new values named from `prefix`. */
export interface UnfuseSite {
  readonly ed: GraphEditor;
  readonly at: number;
  readonly prefix: string;
  readonly shape: SurgeryShape;
  /** The model before the rewrite (ranks and declared shapes of the node's inputs). */
  readonly graph: GraphIndex;
  readonly block: AttentionBlock;
  readonly heads: number;
  readonly headSize: number;
  /** The float type of the block's values (FLOAT, or FLOAT16 in a float16 export): of every constant the rewrite writes. */
  readonly floatType: number;
}

/** A fused node being rewritten; `fail` throws an error naming the block and its form. */
export interface FusedNodeReader {
  readonly node: NodeProto;
  readonly site: UnfuseSite;
  /** Input i, undefined where absent or empty. */
  readonly input: (i: number) => string | undefined;
  readonly attrI: (name: string) => number | undefined;
  readonly attrF: (name: string) => number | undefined;
  readonly attrInts: (name: string) => number[] | undefined;
  readonly fail: (why: string) => never;
}

/** What the explicit graph of a fused block needs beyond its head counts and scale. */
export interface FusedAttentionInputs {
  readonly q: string;
  readonly k: string;
  readonly v: string;
  /** An additive mask (bias) input, [.., Sq, Sk]. */
  readonly mask: string | undefined;
  /** An additive key-padding bias [B, 1, 1, Sk] written from the node's key mask (./keyPaddingBias.ts). */
  readonly keyPadding?: string | undefined;
  readonly causal: boolean;
  /** Q, K and V are [B, S, heads·D] (split into heads and merged back here) rather than [B, heads, S, D]. */
  readonly rank3: boolean;
  /** V's head size where it differs from Q's and K's (qkv_hidden_sizes). */
  readonly vHeadSize?: number;
  /** The node's present output (output 1), written as the new keys and values stacked, [2, B, H, S, D]. */
  readonly present?: string | undefined;
}

export type UnfuseForm = { readonly supported: false; readonly why: string } | { readonly supported: true; readonly read: (f: FusedNodeReader) => FusedAttentionInputs };

export function fusedNodeReader(node: NodeProto, site: UnfuseSite, fail: (why: string) => never): FusedNodeReader {
  const ins = node.input ?? [];
  const attribute = (name: string) => (node.attribute ?? []).find((x) => x.name === name);
  return {
    node,
    site,
    input: (i) => (ins[i] === undefined || ins[i] === '' ? undefined : ins[i]),
    attrI: (name) => {
      const a = attribute(name);
      return a === undefined ? undefined : int64ToNumber(a.i);
    },
    attrF: (name) => attribute(name)?.f ?? undefined,
    attrInts: (name) => {
      const a = attribute(name);
      return a === undefined || (a.ints ?? []).length === 0 ? undefined : (a.ints ?? []).map((x) => int64ToNumber(x));
    },
    fail,
  };
}

/** Q, K and V as three separate inputs (0, 1, 2). */
export function separateQkv({ input, fail }: FusedNodeReader): { q: string; k: string; v: string } {
  const q = input(0);
  const k = input(1);
  const v = input(2);
  if (q === undefined || k === undefined || v === undefined) return fail('Q, K and V must be separate inputs (packed QKV is not supported for this form)');
  return { q, k, v };
}

/** x[..., start:end] along the last axis. */
export function sliceLast(f: FusedNodeReader, x: string, start: number, end: number, name: string): string {
  const { ed, at, prefix: p } = f.site;
  const c = (n: string, v: number): string => ed.constInt64(`${p}${name}_${n}`, [1], [v]);
  return ed.op(at, 'Slice', [x, c('start', start), c('end', end), c('axis', -1)], `${p}${name}`);
}

/** The rank of one of the node's inputs in the model before the rewrite, where known. */
export function inputRank(f: FusedNodeReader, value: string): number | undefined {
  const g = f.site.graph;
  return g.shapeOf(value)?.length ?? g.rankOf(value);
}
