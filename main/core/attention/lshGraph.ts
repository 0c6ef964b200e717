// PLACEHOLDER: being written (issue 3). Replace this whole file.
import type { GraphBuilder } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';

export function buildLshAttentionGraph(_spec: SpecOf<'lsh'>, _dims: AttentionDims, _options: AttentionGraphOptions): GraphBuilder {
  throw new Error("the 'lsh' attention graph is not implemented yet");
}
