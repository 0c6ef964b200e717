/**
 * The models and examples an in-model experiment runs on: resolved from the spec's model name
 * and data source, tokenised, with the feeds and output reading of the model's kind.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LabelledText } from '../../main/core/data/texts';
import { parseTexts } from '../../main/core/data/texts';
import { softmax } from '../../main/core/metrics/distributions';
import type { AttentionBlock } from '../../main/core/models/attentionDetect';
import { findAttentionBlocks } from '../../main/core/models/attentionDetect';
import type { PaddedBatch } from '../../main/core/models/classifierInput';
import type { ModelProto } from '../../main/core/models/onnxModel';
import { decodeOnnxModel, modelIo } from '../../main/core/models/onnxModel';
import { isBuiltinModel, loadBuiltinClassifier } from '../../main/node/models/builtinModels';
import type { DataSource } from './spec';

export interface PreparedExample {
  readonly id: string;
  readonly text: string;
  /** Token ids as fed (special tokens included, cut to the length limit). */
  readonly ids: readonly number[];
  readonly label?: number;
}

export interface PreparedModel {
  readonly name: string;
  readonly sha256: string;
  readonly kind: 'classifier' | 'lm';
  readonly proto: ModelProto;
  readonly blocks: readonly AttentionBlock[];
  readonly labels?: readonly string[];
  readonly examples: readonly PreparedExample[];
  readonly padId: number;
  /** The output holding logits. */
  readonly outputName: string;
  feeds(batch: PaddedBatch): Record<string, ort.Tensor>;
  /** Output distributions of batch row `row` (real length `length`): classifier one, LM one per position 0..length-2. */
  distributions(logits: Float32Array, dims: readonly number[], row: number, length: number): Float64Array[];
}

export class ExperimentModelError extends Error {
  override readonly name = 'ExperimentModelError';
}

interface ModelSpecPart {
  readonly model: string;
  readonly data: DataSource;
  readonly limit?: number | undefined;
  readonly maxLength?: number | undefined;
}

/** Examples of a data source (the built-in test subset needs a built-in model). */
export async function loadExamples(data: DataSource, labels: readonly string[] | undefined, builtinSubset: (() => Promise<LabelledText[]>) | undefined): Promise<LabelledText[]> {
  switch (data.source) {
    case 'builtin':
      if (builtinSubset === undefined) throw new ExperimentModelError('data source "builtin" (the committed test subset) is only available for built-in models; give texts or a file');
      return builtinSubset();
    case 'texts':
      return data.texts.map((t, i) => ({ id: String(i), text: t.text, ...(t.label !== undefined ? { label: t.label } : {}) }));
    case 'file': {
      let content: string;
      try {
        content = await readFile(data.path, 'utf8');
      } catch (e) {
        throw new ExperimentModelError(`data file ${data.path} cannot be read: ${(e as Error).message}`);
      }
      return parseTexts(content, path.basename(data.path), labels);
    }
  }
}

export async function prepareFidelityModel(spec: ModelSpecPart, builtinDir: string | undefined, log: (m: string) => void): Promise<PreparedModel> {
  if (!isBuiltinModel(spec.model)) {
    throw new ExperimentModelError(`model '${spec.model}' is not available to in-model experiments yet: use the built-in spam-encoder`);
  }
  const m = await loadBuiltinClassifier(spec.model, builtinDir);
  const maxLength = spec.maxLength ?? m.maxLength;
  if (maxLength > m.maxLength) throw new ExperimentModelError(`maxLength ${maxLength} exceeds what ${m.name} was trained for (${m.maxLength} tokens)`);
  const proto = decodeOnnxModel(m.modelBytes, `${m.name}/${m.card.model.file}`);
  const inputs = modelIo(proto).inputs.map((i) => i.name);
  for (const need of ['input_ids', 'attention_mask']) {
    if (!inputs.includes(need)) throw new ExperimentModelError(`${m.name} has no '${need}' input (inputs: ${inputs.join(', ')})`);
  }
  let texts = await loadExamples(spec.data, m.labels, () => m.testSubset());
  if (spec.limit !== undefined) texts = texts.slice(0, spec.limit);
  const sep = m.tokenizer.tokenToId('[SEP]');
  const examples = texts.map((t) => {
    let ids = m.encode(t.text);
    if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), ...(sep !== undefined ? [sep] : [])];
    return { id: t.id, text: t.text, ids, ...(t.label !== undefined ? { label: t.label } : {}) };
  });
  const blocks = findAttentionBlocks(proto);
  log(`${m.name}: ${blocks.length} attention blocks (${blocks.map((b) => b.description).slice(0, 1).join('')})`);
  const classes = m.labels.length;
  return {
    name: m.name,
    sha256: m.modelSha256,
    kind: 'classifier',
    proto,
    blocks,
    labels: m.labels,
    examples,
    padId: m.tokenizer.tokenToId('[PAD]') ?? 0,
    outputName: 'logits',
    feeds: (batch) => ({
      input_ids: new ort.Tensor('int64', batch.inputIds, [batch.batch, batch.length]),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, [batch.batch, batch.length]),
    }),
    distributions: (logits, dims, row) => {
      const C = dims[dims.length - 1] ?? classes;
      return [softmax(logits.subarray(row * C, (row + 1) * C))];
    },
  };
}
