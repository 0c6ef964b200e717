/**
 * Finding attention blocks in an ONNX graph by structure (never by node or value names).
 *
 * Each form has its own detector, registered in ./forms.ts:
 * - unfused (./unfused/): anchored on each Softmax over the last axis: walking back from its input
 *   through an optional mask (Add, or Where) and an optional scale (Div or Mul by a scalar) must
 *   reach a MatMul whose second operand comes through a Transpose that moves the feature axis away
 *   from the last position (Kᵀ), and walking forward from its output (through Cast, Dropout,
 *   Identity) must reach a MatMul that takes the probabilities as its first operand (·V). Heads,
 *   head size and key/value heads come from static value shapes and Reshape/Expand target shapes;
 *   causality from a Trilu, a constant lower-triangular mask or a Range-and-compare pattern;
 *   RoPE from the Sin/Cos or Neg/Sub + Concat + Mul pattern feeding Q or K.
 * - fused ops (./fused/: com.microsoft Attention, MultiHeadAttention and GroupQueryAttention and
 *   the ONNX Attention op of opset 23) are read from their attributes and input shapes.
 */
export type { AttentionBlock, AttentionForm, AttentionMasking, AttentionScaling, FusedAttentionForm, NodeRef } from './types';
export { ATTENTION_PATTERNS_LOOKED_FOR } from './forms';
export { findAttentionBlocks } from './findAttentionBlocks';
