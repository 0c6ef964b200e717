/** Dense tensors as they cross the engine's boundaries (row-major, like ONNX and .npy). */
export interface Float32Tensor {
  readonly dtype: 'float32';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Int64Tensor {
  readonly dtype: 'int64';
  readonly shape: readonly number[];
  readonly data: BigInt64Array;
}

export type Tensor = Float32Tensor | Int64Tensor;

/** Number of elements implied by a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function float32Tensor(shape: readonly number[], data?: Float32Array): Float32Tensor {
  const size = shapeSize(shape);
  const buf = data ?? new Float32Array(size);
  if (buf.length !== size) {
    throw new Error(`tensor data has ${buf.length} elements but shape [${shape.join(', ')}] needs ${size}`);
  }
  return { dtype: 'float32', shape: [...shape], data: buf };
}
