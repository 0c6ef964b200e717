import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy';
import type { Tensor } from './tensor';

/** Build .npy bytes by hand, the way NumPy lays them out, independently of encodeNpy. */
function npyBytes(header: string, data: Uint8Array, major = 1, pad = true): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  let text = header;
  if (pad) {
    const total = Math.ceil((preamble + header.length + 1) / 64) * 64;
    text = header + ' '.repeat(total - preamble - header.length - 1) + '\n';
  }
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(preamble + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, preamble);
  out.set(data, preamble + headerBytes.length);
  return out;
}

/** Element values of either dtype, for comparisons. */
const elements = (t: Tensor): (number | bigint)[] => (t.dtype === 'float32' ? Array.from(t.data) : Array.from(t.data));

function f32Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return b;
}

function i64Bytes(values: bigint[]): Uint8Array {
  const b = new Uint8Array(values.length * 8);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setBigInt64(i * 8, x, true));
  return b;
}

describe('decodeNpy', () => {
  it('reads a version 1.0 float32 file laid out as NumPy writes it', () => {
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Bytes([1, 2, 3, 4, 5, 6.5]));
    const t = decodeNpy(bytes);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(elements(t)).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('reads int64, 1-D shapes "(n,)" and scalars "()"', () => {
    const t = decodeNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i64Bytes([-5n, 0n, 9007199254740993n])));
    expect(t.dtype).toBe('int64');
    expect(t.shape).toEqual([3]);
    expect(elements(t)).toEqual([-5n, 0n, 9007199254740993n]);
    const s = decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32Bytes([42])));
    expect(s.shape).toEqual([]);
    expect(elements(s)).toEqual([42]);
  });

  it('reads version 2.0 and 3.0 headers (uint32 length), key order and spacing free', () => {
    const v2 = decodeNpy(npyBytes("{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4'}", f32Bytes([7, 8]), 2));
    expect(v2.shape).toEqual([1, 2]);
    expect(elements(v2)).toEqual([7, 8]);
    const v3 = decodeNpy(npyBytes("{'descr':'<f4','fortran_order':False,'shape':(2,)}", f32Bytes([-1, 1]), 3));
    expect(elements(v3)).toEqual([-1, 1]);
  });

  it('reads data at an offset that is not aligned to the item size', () => {
    // An unpadded header puts the data at an odd offset inside the buffer.
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", f32Bytes([0.25, -3]), 1, false);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const t = decodeNpy(shifted.subarray(1));
    expect(elements(t)).toEqual([0.25, -3]);
  });

  it('refuses a bad magic string', () => {
    expect(() => decodeNpy(new TextEncoder().encode('PK\x03\x04 not numpy at all'))).toThrow(/bad magic/);
    expect(() => decodeNpy(new Uint8Array(0))).toThrow(/bad magic/);
  });

  it('refuses unsupported format versions', () => {
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32Bytes([1]));
    bytes[6] = 4;
    expect(() => decodeNpy(bytes)).toThrow(/unsupported \.npy format version 4\.0/);
  });

  it('names unsupported dtypes and says to convert to float32', () => {
    const f64 = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    expect(() => decodeNpy(f64)).toThrow(/unsupported dtype '<f8' \(float64\).*convert to float32/);
    const f16 = npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(2));
    expect(() => decodeNpy(f16)).toThrow(/'<f2' \(float16\)/);
    const i32 = npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    expect(() => decodeNpy(i32)).toThrow(/'<i4' \(int32\).*int64/);
    const be = npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    expect(() => decodeNpy(be)).toThrow(/'>f4' \(big-endian float32\)/);
    const structured = npyBytes("{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12));
    expect(() => decodeNpy(structured)).toThrow(/structured arrays are not supported/);
  });

  it('refuses Fortran order', () => {
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f32Bytes([1, 2, 3, 4]));
    expect(() => decodeNpy(bytes)).toThrow(/Fortran \(column-major\) order.*C-order/);
  });

  it('refuses malformed headers', () => {
    const f = f32Bytes([1]);
    expect(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, }", f))).toThrow(/malformed \.npy header \(missing 'shape'\)/);
    expect(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, }", f))).toThrow(/malformed \.npy header/);
    expect(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", f))).toThrow(/malformed \.npy header \(unexpected word 'Maybe'/);
    expect(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f))).toThrow(/'shape' must be a tuple of non-negative integers/);
    expect(() => decodeNpy(npyBytes("['not', 'a', 'dict']", f))).toThrow(/malformed \.npy header \(not a dict\)/);
    // Header length pointing past the end of the file.
    const short = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(0));
    new DataView(short.buffer).setUint16(8, 5000, true);
    expect(() => decodeNpy(short)).toThrow(/malformed \.npy file: header says 5000 bytes/);
  });

  it('refuses data shorter or longer than the shape needs', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    expect(() => decodeNpy(npyBytes(header, f32Bytes([1, 2, 3])))).toThrow(/truncated \.npy data: shape \[2, 2\] of <f4 needs 16 bytes but only 12/);
    expect(() => decodeNpy(npyBytes(header, f32Bytes([1, 2, 3, 4, 5])))).toThrow(/longer than its shape: .* needs 16 bytes but 20/);
  });
});

describe('encodeNpy', () => {
  const cases: Tensor[] = [
    { dtype: 'float32', shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3) },
    { dtype: 'float32', shape: [5], data: new Float32Array([Number.NaN, Infinity, -0, 1e-38, 3.4e38]) },
    { dtype: 'float32', shape: [], data: new Float32Array([1.5]) },
    { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
    { dtype: 'int64', shape: [2, 2], data: new BigInt64Array([1n, -2n, 2n ** 62n, -(2n ** 63n)]) },
  ];

  it.each(cases.map((t) => [t.dtype, t.shape.join('x') || 'scalar', t] as const))('round-trips %s %s', (_d, _s, t) => {
    const bytes = encodeNpy(t);
    const back = decodeNpy(bytes);
    expect(back.dtype).toBe(t.dtype);
    expect(back.shape).toEqual(t.shape);
    expect(elements(back)).toEqual(elements(t));
  });

  it('writes a version 1.0 header padded to 64 bytes, as NumPy does', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) });
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")).toBe(true);
    expect(header.endsWith('\n')).toBe(true);
    expect(bytes.length).toBe(10 + headerLength + 12);
  });

  it('refuses a tensor whose data does not match its shape', () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) })).toThrow(/3 elements but shape \[2, 2\] needs 4/);
  });
});
