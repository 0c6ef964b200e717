/**
 * What the fused-block rewrite refuses, and how: each error names the block, its form and what is
 * missing. (That the supported forms compute what ONNX Runtime computes is checked in
 * src/node/models/fusedSurgery.test.ts.)
 */
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import type { ModelProto, NodeProto } from '../../onnxModel';
import { decodeOnnxModel } from '../../onnxModel';
import type { FusedModelForm } from '../../../../../test/support/fusedModels';
import { buildFusedModel } from '../../../../../test/support/fusedModels';
import { applyModification } from '../applyModification';
import type { SurgeryShape } from '../modification';

const { onnx } = pkg;
const SHAPE: SurgeryShape = { batch: 2, seqLen: 6 };

/** The form's model with `edit` applied to the fused node of layer 0. */
function edited(form: FusedModelForm, edit: (node: NodeProto, model: ModelProto) => void): ModelProto {
  const model = decodeOnnxModel(buildFusedModel(form).bytes);
  const node = (model.graph?.node ?? []).find((n) => n.domain === 'com.microsoft');
  if (node === undefined) throw new Error('no fused node');
  edit(node, model);
  return model;
}

const expose = (model: ModelProto, shape: SurgeryShape = SHAPE): (() => unknown) => () => applyModification(model, { exposeAttention: [0] }, shape);
const intAttr = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const block0 = (form: string): string => `rewriting block 0 \\(${form.replace(/\./g, '\\.')}, node '[^']+'\\) into explicit attention: `;

/** Feed the node's input i from a new int32 graph input of the given shape. */
function int32Input(model: ModelProto, node: NodeProto, i: number, name: string, dims: (number | string)[]): void {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  model.graph?.input?.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 6, shape: { dim } } } }));
  (node.input as string[])[i] = name;
}

describe('fused blocks the rewrite refuses', () => {
  it('com.microsoft Attention with a past that is not empty', () => {
    const model = decodeOnnxModel(buildFusedModel('attention-causal-past').bytes);
    const inputs = { input_ids: [2, 6], attention_mask: [2, 9], 'past.0': [2, 2, 4, 3, 8], 'past.1': [2, 2, 4, 3, 8] };
    expect(expose(model, { ...SHAPE, inputs })).toThrow(new RegExp(`${block0('com.microsoft.Attention')}a past of 3 keys \\(input 4, 'past\\.0'\\) is not supported; only an empty past`));
  });

  it('com.microsoft Attention with a past whose length cannot be told', () => {
    const model = edited('attention-causal-past', (_n, m) => {
      const past = m.graph?.input?.find((i) => i.name === 'past.0');
      const dim = past?.type?.tensorType?.shape?.dim?.[3];
      if (dim !== undefined && dim !== null) dim.dimParam = 'cache';
    });
    expect(expose(model)).toThrow(new RegExp(`${block0('com.microsoft.Attention')}the length of its past \\(input 4, 'past\\.0'\\) could not be told`));
  });

  it('com.microsoft Attention with do_rotary, past_present_share_buffer or past_sequence_length', () => {
    expect(expose(edited('attention-mask2d', (n) => (n.attribute ??= []).push(intAttr('do_rotary', 1))))).toThrow(new RegExp(`${block0('com.microsoft.Attention')}do_rotary .*is not supported`));
    expect(expose(edited('attention-mask2d', (n) => (n.attribute ??= []).push(intAttr('past_present_share_buffer', 1))))).toThrow(/past_present_share_buffer is not supported/);
    expect(expose(edited('attention-mask2d', (n, m) => int32Input(m, n, 6, 'past_len', [1])))).toThrow(/input 6 \(past_sequence_length\) is not supported/);
  });

  it('a mask_index or key_padding_mask of rank 3 (a mask per query) or of unknown rank', () => {
    expect(expose(edited('attention-mask2d', (n, m) => int32Input(m, n, 3, 'mask3d', ['batch', 6, 6])))).toThrow(
      new RegExp(`${block0('com.microsoft.Attention')}mask_index \\(input 3, 'mask3d'\\) is of rank 3; only a \\[B, S\\] 0/1 key mask or \\[B\\] key lengths`),
    );
    expect(expose(edited('mha-bias-mask2d', (n, m) => int32Input(m, n, 4, 'mask4d', ['batch', 1, 6, 6])))).toThrow(
      new RegExp(`${block0('com.microsoft.MultiHeadAttention')}key_padding_mask \\(input 4, 'mask4d'\\) is of rank 4`),
    );
  });

  it('com.microsoft Attention with qkv_hidden_sizes whose Q and K widths differ', () => {
    const model = edited('attention-qkv-sizes', (n) => {
      const a = (n.attribute ?? []).find((x) => x.name === 'qkv_hidden_sizes');
      if (a !== undefined) a.ints = [24, 16, 32];
    });
    expect(expose(model)).toThrow(/qkv_hidden_sizes \[24, 16, 32\]: Q and K widths that differ are not supported/);
  });

  it('MultiHeadAttention with a past, or a bias with packed QKV', () => {
    expect(expose(edited('mha-bias-mask2d', (n, m) => int32Input(m, n, 6, 'past_key', ['batch', 4, 'past', 8])))).toThrow(
      new RegExp(`${block0('com.microsoft.MultiHeadAttention')}input 6 \\(past key/value, past sequence length or cache indirection\\) is not supported`),
    );
    const packedWithBias = edited('mha-packed-qkv', (n, m) => {
      const bias = (m.graph?.initializer ?? []).find((t) => t.name?.endsWith('_wqkv'));
      (n.input as string[])[3] = bias?.name ?? '';
    });
    expect(expose(packedWithBias)).toThrow(/a bias \(input 3\) with packed QKV or packed KV is not supported/);
  });

  it('MultiHeadAttention without key and value whose query is not packed', () => {
    const model = edited('mha-bias-mask2d', (n) => {
      (n.input as string[])[1] = '';
      (n.input as string[])[2] = '';
    });
    expect(expose(model)).toThrow(new RegExp(`${block0('com.microsoft.MultiHeadAttention')}key and value are absent but the query is of rank 3, not packed QKV`));
  });
});
