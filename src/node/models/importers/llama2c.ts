/** The llama2.c importer: a checkpoint and its tokenizer.bin, converted to ONNX (tokenizer embedded). */
import { MAX_LLAMA2C_CHECKPOINT_BYTES, MAX_LLAMA2C_TOKENIZER_BYTES } from '../../../common/models/importers/registry';
import { Llama2cCheckpointError } from '../../../common/models/llama2c/checkpoint';
import { Llama2cTokenizerError } from '../../../common/models/llama2c/tokenizer';
import { llama2cToOnnxBytes } from '../convertLlama2c';
import { ModelRequestError } from '../modelRequestError';
import type { ModelImporter } from './importer';
import { convertedName } from './names';

const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;

/** Refuses an empty or over-large file before any parsing. */
function checkSize(name: string, what: string, bytes: Uint8Array, maxBytes: number): void {
  if (bytes.length === 0) throw new ModelRequestError('invalid-argument', `${name} was not converted: the ${what} is empty`);
  if (bytes.length > maxBytes) {
    throw new ModelRequestError('invalid-argument', `${name} was not converted: the ${what} is ${bytes.length} bytes; the limit is ${mib(maxBytes)}`);
  }
}

export const llama2cImporter: ModelImporter<'llama2c'> = {
  toOnnx(requestedName, { checkpoint, tokenizer }) {
    const name = convertedName(requestedName);
    checkSize(name, 'checkpoint', checkpoint, MAX_LLAMA2C_CHECKPOINT_BYTES);
    checkSize(name, 'tokenizer', tokenizer, MAX_LLAMA2C_TOKENIZER_BYTES);
    let bytes: Uint8Array;
    try {
      bytes = llama2cToOnnxBytes(checkpoint, tokenizer).model;
    } catch (e) {
      if (e instanceof Llama2cCheckpointError || e instanceof Llama2cTokenizerError) {
        throw new ModelRequestError('invalid-argument', `${name} was not converted: ${e.message}`);
      }
      throw e;
    }
    return { name, bytes, taskKind: 'next-token', logLine: `models.import llama2c: ${name} (${checkpoint.length} + ${tokenizer.length} bytes) converted to ${bytes.length} bytes of ONNX` };
  },
};
