/**
 * Convert a llama2.c checkpoint and its tokenizer.bin into one self-contained ONNX model:
 * the graph from core/models/llama2c/onnxGraph, with the tokenizer file embedded (base64) in
 * the model's metadata_props under LLAMA2C_TOKENIZER_METADATA_KEY.
 */
import { readFile, writeFile } from 'node:fs/promises';
import pkg from 'onnx-proto';
import { decodeModel } from '../../common/onnx/builder';
import type { Llama2cCheckpoint } from '../../common/models/llama2c/checkpoint';
import { parseLlama2cCheckpoint } from '../../common/models/llama2c/checkpoint';
import { buildLlama2cGraph } from '../../common/models/llama2c/onnxGraph';
import type { Llama2cTokenizer } from '../../common/models/llama2c/tokenizer';
import { parseLlama2cTokenizer } from '../../common/models/llama2c/tokenizer';

const { onnx } = pkg;

export const LLAMA2C_TOKENIZER_METADATA_KEY = 'attn.tokenizer.llama2c';
export const LLAMA2C_CONFIG_METADATA_KEY = 'attn.llama2c.config';

export interface ConvertLlama2cOptions {
  /** Path of the llama2.c checkpoint (.bin, legacy or version 1). */
  readonly checkpoint: string;
  /** Path of the llama2.c tokenizer.bin. */
  readonly tokenizer: string;
  /** Path of the ONNX model to write. */
  readonly out: string;
}

export interface ConvertLlama2cResult {
  readonly out: string;
  readonly bytes: number;
  readonly checkpoint: Llama2cCheckpoint;
  readonly tokenizer: Llama2cTokenizer;
  readonly ms: number;
}

/** The ONNX model of a parsed checkpoint, with the tokenizer file embedded in its metadata. */
function modelBytes(checkpoint: Llama2cCheckpoint, tokenizerBytes: Uint8Array): Uint8Array {
  const proto = buildLlama2cGraph(checkpoint).toModelProto();
  proto.metadataProps = [
    { key: LLAMA2C_TOKENIZER_METADATA_KEY, value: Buffer.from(tokenizerBytes).toString('base64') },
    { key: LLAMA2C_CONFIG_METADATA_KEY, value: JSON.stringify({ format: checkpoint.format, ...checkpoint.config }) },
  ];
  return onnx.ModelProto.encode(proto).finish();
}

/** Build the ONNX model bytes from the two files' contents (validated; throws specific errors). */
export function llama2cToOnnxBytes(checkpointBytes: Uint8Array, tokenizerBytes: Uint8Array): { model: Uint8Array; checkpoint: Llama2cCheckpoint; tokenizer: Llama2cTokenizer } {
  const checkpoint = parseLlama2cCheckpoint(checkpointBytes);
  const tokenizer = parseLlama2cTokenizer(tokenizerBytes, checkpoint.config.vocabSize);
  return { model: modelBytes(checkpoint, tokenizerBytes), checkpoint, tokenizer };
}

/** Read a checkpoint and a tokenizer, validate both, write the ONNX model. */
export async function convertLlama2c(options: ConvertLlama2cOptions): Promise<ConvertLlama2cResult> {
  const t0 = performance.now();
  const [ckptBytes, tokBytes] = await Promise.all([readFile(options.checkpoint), readFile(options.tokenizer)]);
  const withPath = <T>(path: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof Error) e.message = `${path}: ${e.message}`;
      throw e;
    }
  };
  const checkpoint = withPath(options.checkpoint, () => parseLlama2cCheckpoint(ckptBytes));
  const tokenizer = withPath(options.tokenizer, () => parseLlama2cTokenizer(tokBytes, checkpoint.config.vocabSize));
  const model = modelBytes(checkpoint, tokBytes);
  await writeFile(options.out, model);
  return { out: options.out, bytes: model.byteLength, checkpoint, tokenizer, ms: performance.now() - t0 };
}

/** The tokenizer embedded in a converted model, or undefined when it has none. */
export function embeddedLlama2cTokenizer(modelBytes: Uint8Array): Llama2cTokenizer | undefined {
  const model = decodeModel(modelBytes);
  const entry = model.metadataProps.find((p) => p.key === LLAMA2C_TOKENIZER_METADATA_KEY);
  if (entry === undefined || entry.value === undefined || entry.value === null) return undefined;
  return parseLlama2cTokenizer(new Uint8Array(Buffer.from(entry.value, 'base64')));
}
