// PLACEHOLDER: being written (issue 3). Replace this whole file.
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import type { SpecOf } from '../spec';

export function linformerReference(_spec: SpecOf<'linformer'>, _q: NumericTensor, _k: NumericTensor, _v: NumericTensor, _options: ReferenceOptions): ReferenceResult {
  throw new Error('reference not implemented yet');
}
