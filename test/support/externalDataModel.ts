/**
 * A model whose weights are ONNX external data, for the tests of reading a model beside its data
 * files (src/node/models/hfFolder.test.ts, hfHub.test.ts).
 */
import pkg from 'onnx-proto';

const { onnx } = pkg;

/** float32 values as little-endian bytes. */
const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

/**
 * y = x·W + b with x [2, 3], W [3, 2] and b [2] stored as external data in `location` (W at
 * offset 0, b after it), written with onnx-proto: the model's bytes and the data file's.
 */
export function externalDataModel(location: string): { model: Uint8Array; data: Uint8Array } {
  const data = new Uint8Array([...f32([1, 2, 3, 4, 5, 6]), ...f32([0.5, -1])]);
  const external = (offset: number, length: number) => [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
  const tensorType = (dims: number[]) => ({ tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'attention-workbench-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'affine',
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['xw'], name: 'matmul' },
        { opType: 'Add', input: ['xw', 'b'], output: ['y'], name: 'add' },
      ],
      initializer: [
        { name: 'W', dataType: onnx.TensorProto.DataType.FLOAT, dims: [3, 2], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: external(0, 24) },
        { name: 'b', dataType: onnx.TensorProto.DataType.FLOAT, dims: [2], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: external(24, 8) },
      ],
      input: [{ name: 'x', type: tensorType([2, 3]) }],
      output: [{ name: 'y', type: tensorType([2, 2]) }],
    },
  });
  return { model: onnx.ModelProto.encode(model).finish(), data };
}
