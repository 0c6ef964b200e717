/**
 * A small ONNX graph builder over the protobufjs-generated ONNX schema (onnx-proto).
 *
 * It hands out unique value names, records the element type and declared shape of every value
 * it creates (inputs, initializers, node outputs), and serialises the model with those shapes
 * as `value_info`, so a graph's sizes can be checked structurally without running it and ONNX
 * Runtime checks them against its own shape inference when it loads the model.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { Tensor } from '../tensor';
import { shapeSize } from '../tensor';

const { onnx } = pkg;

export type ElemType = 'float32' | 'int64' | 'bool';
/** A static size or a symbolic (named) dimension. */
export type Dim = number | string;

const ELEM_TYPE_CODE: Record<ElemType, number> = { float32: 1, int64: 7, bool: 9 };
const ELEM_TYPE_BYTES: Record<ElemType, number> = { float32: 4, int64: 8, bool: 1 };

export function elemTypeBytes(t: ElemType): number {
  return ELEM_TYPE_BYTES[t];
}

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: Tensor };

/** Attribute constructors: JS numbers do not say whether they are ints or floats, so say it here. */
export const attr = {
  int: (value: number): AttributeValue => {
    if (!Number.isSafeInteger(value)) throw new Error(`int attribute must be an integer, got ${value}`);
    return { kind: 'int', value };
  },
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => {
    if (value.some((v) => !Number.isSafeInteger(v))) throw new Error(`ints attribute must hold integers, got [${value.join(', ')}]`);
    return { kind: 'ints', value: [...value] };
  },
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value: [...value] }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (value: Tensor): AttributeValue => ({ kind: 'tensor', value }),
};

export type ValueRole = 'input' | 'initializer' | 'intermediate';

/** What the builder knows about one value of the graph. */
export interface ValueRecord {
  readonly name: string;
  readonly elemType: ElemType;
  /** Declared shape; undefined where the builder was not told. */
  readonly shape: readonly Dim[] | undefined;
  readonly role: ValueRole;
}

export interface NodeRecord {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** Declared type and shape of a node output. */
export interface OutputDecl {
  readonly elemType: ElemType;
  readonly shape?: readonly Dim[];
  /** Exact name to use (must be unused); otherwise one is generated from the op type. */
  readonly name?: string;
}

export interface NodeOptions {
  readonly attrs?: Readonly<Record<string, AttributeValue>>;
  readonly domain?: string;
  readonly name?: string;
}

export interface GraphBuilderOptions {
  readonly graphName?: string;
  /** Default-domain opset version (17 unless given). */
  readonly opsetVersion?: number;
  /** Import the com.microsoft domain (contrib ops); version 1 unless given. */
  readonly microsoftDomain?: boolean | number;
  readonly producerName?: string;
  readonly docString?: string;
}

export const MICROSOFT_DOMAIN = 'com.microsoft';
export const DEFAULT_OPSET = 17;
const IR_VERSION = 8;

/** Number of elements of a fully static shape, or undefined when any dim is symbolic or unknown. */
export function staticSize(shape: readonly Dim[] | undefined): number | undefined {
  if (shape === undefined) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

function encodeTensor(t: Tensor, name: string): OnnxTypes.ITensorProto {
  const count = shapeSize(t.shape);
  if (t.data.length !== count) {
    throw new Error(`initializer ${name}: ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${count}`);
  }
  const itemSize = t.dtype === 'float32' ? 4 : 8;
  const raw = new Uint8Array(count * itemSize);
  const view = new DataView(raw.buffer);
  if (t.dtype === 'float32') {
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, t.data[i] ?? 0, true);
  } else {
    for (let i = 0; i < count; i++) view.setBigInt64(i * 8, t.data[i] ?? 0n, true);
  }
  return { name, dims: [...t.shape], dataType: ELEM_TYPE_CODE[t.dtype], rawData: raw };
}

function valueInfo(rec: ValueRecord): OnnxTypes.IValueInfoProto {
  const tensorType: OnnxTypes.TypeProto.ITensor = { elemType: ELEM_TYPE_CODE[rec.elemType] };
  if (rec.shape !== undefined) {
    tensorType.shape = { dim: rec.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name: rec.name, type: { tensorType } };
}

function encodeAttribute(name: string, a: AttributeValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: encodeTensor(a.value, `${name}_value`) };
  }
}

export class GraphBuilder {
  private readonly valueMap = new Map<string, ValueRecord>();
  private readonly nodeList: NodeRecord[] = [];
  private readonly initializerTensors = new Map<string, Tensor>();
  private readonly inputNames: string[] = [];
  private readonly outputNames: string[] = [];
  private readonly usedNames = new Set<string>();
  private readonly counters = new Map<string, number>();
  readonly opsetVersion: number;
  readonly microsoftDomainVersion: number | undefined;

  constructor(private readonly options: GraphBuilderOptions = {}) {
    this.opsetVersion = options.opsetVersion ?? DEFAULT_OPSET;
    const ms = options.microsoftDomain;
    this.microsoftDomainVersion = ms === undefined || ms === false ? undefined : ms === true ? 1 : ms;
  }

  /** A name not used yet by any value or node, derived from `hint`. */
  uniqueName(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    if (!this.usedNames.has(base)) {
      this.usedNames.add(base);
      return base;
    }
    let n = this.counters.get(base) ?? 1;
    let name = `${base}_${n}`;
    while (this.usedNames.has(name)) name = `${base}_${++n}`;
    this.counters.set(base, n + 1);
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`graph value name '${name}' is already used`);
    this.usedNames.add(name);
    return name;
  }

  private record(rec: ValueRecord): string {
    this.valueMap.set(rec.name, rec);
    return rec.name;
  }

  /** Declare a graph input; its name is used exactly. */
  input(name: string, elemType: ElemType, shape: readonly Dim[]): string {
    this.claim(name);
    this.inputNames.push(name);
    return this.record({ name, elemType, shape: [...shape], role: 'input' });
  }

  /** Add a constant tensor (stored as raw little-endian bytes). */
  initializer(t: Tensor, hint = 'const'): string {
    const name = this.uniqueName(hint);
    this.initializerTensors.set(name, t);
    return this.record({ name, elemType: t.dtype, shape: [...t.shape], role: 'initializer' });
  }

  /** A float32 constant; a plain number gives a scalar (shape []). */
  constFloat32(values: number | ArrayLike<number>, shape?: readonly number[], hint = 'const_f'): string {
    const data = typeof values === 'number' ? new Float32Array([values]) : Float32Array.from(values);
    return this.initializer({ dtype: 'float32', shape: shape ?? (typeof values === 'number' ? [] : [data.length]), data }, hint);
  }

  /** An int64 constant; a plain number gives a scalar (shape []). */
  constInt64(values: number | ArrayLike<number> | BigInt64Array, shape?: readonly number[], hint = 'const_i'): string {
    let data: BigInt64Array;
    if (typeof values === 'number') data = new BigInt64Array([BigInt(values)]);
    else if (values instanceof BigInt64Array) data = values;
    else {
      data = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] ?? 0);
    }
    return this.initializer({ dtype: 'int64', shape: shape ?? (typeof values === 'number' ? [] : [data.length]), data }, hint);
  }

  /** Add a node with any number of outputs; returns the output names in order. */
  node(opType: string, inputs: readonly string[], outputs: readonly OutputDecl[], options: NodeOptions = {}): string[] {
    for (const input of inputs) {
      // '' marks an omitted optional input in ONNX.
      if (input !== '' && !this.valueMap.has(input)) throw new Error(`${opType}: unknown input value '${input}'`);
    }
    const domain = options.domain ?? '';
    if (domain === MICROSOFT_DOMAIN && this.microsoftDomainVersion === undefined) {
      throw new Error(`${opType} is a ${MICROSOFT_DOMAIN} op but the builder was created without microsoftDomain`);
    }
    const outNames = outputs.map((o) =>
      this.record({
        name: o.name !== undefined ? this.claim(o.name) : this.uniqueName(opType.toLowerCase()),
        elemType: o.elemType,
        shape: o.shape === undefined ? undefined : [...o.shape],
        role: 'intermediate',
      }),
    );
    this.nodeList.push({
      name: this.uniqueName(options.name ?? `${opType}_node`),
      opType,
      domain,
      inputs: [...inputs],
      outputs: outNames,
      attributes: { ...(options.attrs ?? {}) },
    });
    return outNames;
  }

  /** Add a single-output node; returns its output name. */
  op(opType: string, inputs: readonly string[], out: OutputDecl, options: NodeOptions = {}): string {
    const [name] = this.node(opType, inputs, [out], options);
    return name as string;
  }

  /** Mark a value as a graph output, under `name` (an Identity node is added when it differs). */
  output(value: string, name?: string): string {
    const rec = this.valueMap.get(value);
    if (rec === undefined) throw new Error(`output: unknown value '${value}'`);
    let outName = value;
    if (name !== undefined && name !== value) {
      outName = this.op('Identity', [value], { elemType: rec.elemType, shape: rec.shape, name });
    }
    if (this.outputNames.includes(outName)) throw new Error(`'${outName}' is already a graph output`);
    this.outputNames.push(outName);
    return outName;
  }

  /** The recorded type and shape of a value. */
  valueInfo(name: string): ValueRecord | undefined {
    return this.valueMap.get(name);
  }

  /** Every value the graph declares: inputs, initializers and node outputs. */
  values(): readonly ValueRecord[] {
    return [...this.valueMap.values()];
  }

  nodes(): readonly NodeRecord[] {
    return this.nodeList;
  }

  graphInputs(): readonly string[] {
    return this.inputNames;
  }

  graphOutputs(): readonly string[] {
    return this.outputNames;
  }

  toModelProto(): OnnxTypes.ModelProto {
    if (this.outputNames.length === 0) throw new Error('the graph has no outputs');
    const recOf = (name: string): ValueRecord => {
      const rec = this.valueMap.get(name);
      if (rec === undefined) throw new Error(`unknown value '${name}'`);
      return rec;
    };
    const outputSet = new Set(this.outputNames);
    const graph: OnnxTypes.IGraphProto = {
      name: this.options.graphName ?? 'graph',
      input: this.inputNames.map((n) => valueInfo(recOf(n))),
      output: this.outputNames.map((n) => valueInfo(recOf(n))),
      initializer: [...this.initializerTensors].map(([name, t]) => encodeTensor(t, name)),
      node: this.nodeList.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes).map(([k, a]) => encodeAttribute(k, a)),
      })),
      valueInfo: [...this.valueMap.values()]
        .filter((r) => r.role === 'intermediate' && r.shape !== undefined && !outputSet.has(r.name))
        .map(valueInfo),
    };
    const opsetImport: OnnxTypes.IOperatorSetIdProto[] = [{ domain: '', version: this.opsetVersion }];
    if (this.microsoftDomainVersion !== undefined) opsetImport.push({ domain: MICROSOFT_DOMAIN, version: this.microsoftDomainVersion });
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport,
      producerName: this.options.producerName ?? 'attention-workbench',
      docString: this.options.docString ?? '',
      graph,
    });
  }

  toModelBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModelProto()).finish();
  }
}

/** Decode model bytes (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
