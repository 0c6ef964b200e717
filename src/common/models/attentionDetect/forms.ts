/**
 * The attention forms detection recognises, one detector per form (each in its own file). To add
 * a form: name it in AttentionForm (./types.ts), write its detector, register it here, and say
 * what it looks for in ATTENTION_PATTERNS_LOOKED_FOR.
 */
import { msAttention } from './fused/msAttention';
import { msGroupQueryAttention } from './fused/msGroupQueryAttention';
import { msMultiHeadAttention } from './fused/msMultiHeadAttention';
import { onnxAttention } from './fused/onnxAttention';
import type { AttentionForm, AttentionFormDetector } from './types';
import { unfusedAttention } from './unfused/unfusedForm';

export const ATTENTION_FORMS: Readonly<Record<AttentionForm, AttentionFormDetector>> = {
  unfused: unfusedAttention,
  'com.microsoft.Attention': msAttention,
  'com.microsoft.MultiHeadAttention': msMultiHeadAttention,
  'com.microsoft.GroupQueryAttention': msGroupQueryAttention,
  'onnx.Attention': onnxAttention,
};

/** What the detector looks for, for "no attention blocks found" messages. */
export const ATTENTION_PATTERNS_LOOKED_FOR: readonly string[] = [
  'unfused: MatMul(Q, Transpose(K)) -> optional Div/Mul by a scalar -> optional mask Add or Where -> Softmax over the last axis -> MatMul(probabilities, V)',
  'com.microsoft Attention, MultiHeadAttention and GroupQueryAttention nodes',
  'ONNX Attention nodes (opset 23 and later)',
];
