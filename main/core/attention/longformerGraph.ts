// PLACEHOLDER: being written (issue 3). Replace this whole file.
import type { GraphBuilder } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';

export function buildLongformerAttentionGraph(_spec: SpecOf<'longformer'>, _dims: AttentionDims, _options: AttentionGraphOptions): GraphBuilder {
  throw new Error("the 'longformer' attention graph is not implemented yet");
}
