/**
 * NumPy .npy reading and writing (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: the magic string "\x93NUMPY", one byte major and one byte minor version, the header
 * length (little-endian uint16 for version 1, uint32 for versions 2 and 3), then the header: a
 * Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces and ending in a newline, then the raw array data.
 *
 * Only little-endian float32 ('<f4') and int64 ('<i8') arrays in C (row-major) order are
 * supported; every other case is refused with a message that says what to change.
 */
import { shapeSize } from './tensor';
import type { Tensor } from './tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93 N U M P Y
const PREAMBLE_V1 = 10; // magic (6) + version (2) + uint16 length (2)
const PREAMBLE_V2 = 12; // magic (6) + version (2) + uint32 length (4)
const HEADER_ALIGN = 64;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What every known NumPy type code means, so refusals can name the type. */
const TYPE_NAMES: Record<string, string> = {
  b1: 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  f16: 'float128',
  c8: 'complex64',
  c16: 'complex128',
  O: 'Python objects',
};

function describeUnsupportedDtype(descr: string): string {
  const order = descr[0];
  const code = order === '<' || order === '>' || order === '|' || order === '=' ? descr.slice(1) : descr;
  const name = TYPE_NAMES[code];
  if (name === 'float32' || name === 'int64') {
    return `unsupported dtype '${descr}' (big-endian ${name}): only little-endian arrays are supported; convert with arr.astype('<${code}')`;
  }
  const named = name === undefined ? `'${descr}'` : `'${descr}' (${name})`;
  const hint =
    name !== undefined && /int|bool/.test(name)
      ? "convert to float32 (arr.astype(np.float32)) or, for indices, to int64 (arr.astype(np.int64))"
      : 'convert to float32 (arr.astype(np.float32))';
  return `unsupported dtype ${named}: only float32 ('<f4') and int64 ('<i8') are supported; ${hint}`;
}

// ---------------------------------------------------------------------------------------------
// Header parsing: a tiny reader for the Python literal subset that .npy headers use.

type HeaderValue = string | boolean | number | HeaderValue[] | { [key: string]: HeaderValue };

class HeaderParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new Error(`malformed .npy header (${what} at character ${this.pos}): ${JSON.stringify(this.text.trimEnd())}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  parseTop(): HeaderValue {
    const v = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected trailing text');
    return v;
  }

  private value(): HeaderValue {
    const c = this.peek();
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    if (/[0-9-]/.test(c)) return this.integer();
    if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z_]+/.exec(this.text.slice(this.pos));
      const word = m?.[0] ?? '';
      this.pos += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      this.pos -= word.length;
      this.fail(`unexpected word '${word}'`);
    }
    return this.fail(c === '' ? 'unexpected end' : `unexpected character '${c}'`);
  }

  private dict(): { [key: string]: HeaderValue } {
    this.expect('{');
    const out: { [key: string]: HeaderValue } = {};
    while (this.peek() !== '}') {
      const key = this.string();
      this.expect(':');
      out[key] = this.value();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail("expected ',' or '}'");
    }
    this.pos++;
    return out;
  }

  private sequence(close: string): HeaderValue[] {
    this.pos++;
    const out: HeaderValue[] = [];
    while (this.peek() !== close) {
      out.push(this.value());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== close) this.fail(`expected ',' or '${close}'`);
    }
    this.pos++;
    return out;
  }

  private string(): string {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') this.fail('expected a quoted string');
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  private integer(): number {
    const m = /^-?[0-9]+L?/.exec(this.text.slice(this.pos));
    if (m === null) this.fail('expected an integer');
    this.pos += m[0].length;
    return Number.parseInt(m[0], 10);
  }
}

interface NpyHeader {
  readonly descr: string;
  readonly shape: number[];
  readonly dataOffset: number;
}

function readHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error('not a .npy file: bad magic (expected the bytes "\\x93NUMPY" at the start)');
  }
  if (bytes.length < PREAMBLE_V1) throw new Error('malformed .npy file: truncated before the header length');
  const major = bytes[6] ?? 0;
  const minor = bytes[7] ?? 0;
  if (major < 1 || major > 3) {
    throw new Error(`unsupported .npy format version ${major}.${minor}: only versions 1.0, 2.0 and 3.0 are supported`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = PREAMBLE_V1;
    headerLength = view.getUint16(8, true);
  } else {
    if (bytes.length < PREAMBLE_V2) throw new Error('malformed .npy file: truncated before the header length');
    headerStart = PREAMBLE_V2;
    headerLength = view.getUint32(8, true);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) {
    throw new Error(`malformed .npy file: header says ${headerLength} bytes but the file ends after ${bytes.length - headerStart}`);
  }
  const headerBytes = bytes.subarray(headerStart, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);

  const parsed = new HeaderParser(text).parseTop();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`malformed .npy header (not a dict): ${JSON.stringify(text.trimEnd())}`);
  }
  const { descr, fortran_order: fortranOrder, shape } = parsed;
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in parsed)) throw new Error(`malformed .npy header (missing '${key}'): ${JSON.stringify(text.trimEnd())}`);
  }
  if (typeof descr !== 'string') {
    throw new Error(`unsupported dtype ${JSON.stringify(descr)}: structured arrays are not supported; save a plain float32 array`);
  }
  if (typeof fortranOrder !== 'boolean') throw new Error(`malformed .npy header ('fortran_order' is not True/False)`);
  if (fortranOrder) {
    throw new Error('unsupported Fortran (column-major) order: save a C-order array (np.ascontiguousarray(arr))');
  }
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`malformed .npy header ('shape' must be a tuple of non-negative integers, got ${JSON.stringify(shape)})`);
  }
  return { descr, shape: shape as number[], dataOffset };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

/** Decode a .npy file's bytes into a tensor (float32 or int64, C order). */
export function decodeNpy(bytes: Uint8Array): Tensor {
  const { descr, shape, dataOffset } = readHeader(bytes);
  let itemSize: number;
  if (descr === '<f4') itemSize = 4;
  else if (descr === '<i8') itemSize = 8;
  else throw new Error(describeUnsupportedDtype(descr));

  const count = shapeSize(shape);
  const need = count * itemSize;
  const have = bytes.length - dataOffset;
  const shapeText = `[${shape.join(', ')}]`;
  if (have < need) {
    throw new Error(`truncated .npy data: shape ${shapeText} of ${descr} needs ${need} bytes but only ${have} follow the header`);
  }
  if (have > need) {
    throw new Error(`.npy data is longer than its shape: shape ${shapeText} of ${descr} needs ${need} bytes but ${have} follow the header`);
  }

  // Copy into a fresh, aligned buffer (the data offset need not be a multiple of the item size).
  // An explicit copy, not bytes.slice(): on a Node Buffer slice() returns a view of a shared pool.
  const raw = new Uint8Array(need);
  raw.set(bytes.subarray(dataOffset, dataOffset + need));
  if (descr === '<f4') {
    let data: Float32Array;
    if (LITTLE_ENDIAN_HOST) data = new Float32Array(raw.buffer, 0, count);
    else {
      const view = new DataView(raw.buffer);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    }
    return { dtype: 'float32', shape, data };
  }
  let data: BigInt64Array;
  if (LITTLE_ENDIAN_HOST) data = new BigInt64Array(raw.buffer, 0, count);
  else {
    const view = new DataView(raw.buffer);
    data = new BigInt64Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getBigInt64(i * 8, true);
  }
  return { dtype: 'int64', shape, data };
}

/** Encode a tensor as a .npy file (version 1.0, or 2.0 when the header needs it). */
export function encodeNpy(t: Tensor): Uint8Array {
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`cannot encode .npy: bad dimension ${d} in shape [${t.shape.join(', ')}]`);
  }
  const count = shapeSize(t.shape);
  if (t.data.length !== count) {
    throw new Error(`cannot encode .npy: tensor has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${count}`);
  }
  const descr = t.dtype === 'float32' ? '<f4' : '<i8';
  const itemSize = t.dtype === 'float32' ? 4 : 8;
  const shapeText = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;

  let preamble = PREAMBLE_V1;
  let total = Math.ceil((preamble + dict.length + 1) / HEADER_ALIGN) * HEADER_ALIGN;
  let major = 1;
  if (total - preamble > 0xffff) {
    preamble = PREAMBLE_V2;
    total = Math.ceil((preamble + dict.length + 1) / HEADER_ALIGN) * HEADER_ALIGN;
    major = 2;
  }
  const header = dict + ' '.repeat(total - preamble - dict.length - 1) + '\n';

  const out = new Uint8Array(total + count * itemSize);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);

  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, count * itemSize), total);
  } else if (t.dtype === 'float32') {
    for (let i = 0; i < count; i++) view.setFloat32(total + i * 4, t.data[i] ?? 0, true);
  } else {
    for (let i = 0; i < count; i++) view.setBigInt64(total + i * 8, t.data[i] ?? 0n, true);
  }
  return out;
}
