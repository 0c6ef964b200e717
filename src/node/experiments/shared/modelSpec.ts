/**
 * What the model preparation of an in-model experiment shares between the built-in, catalog and
 * imported models (models.ts, importedModel.ts): the part of the spec it reads, the error it
 * throws and what every prepared model gives the runners.
 */
import type { ModelFile } from '../../ort/modelFile';
import type { Tensor } from 'onnxruntime-node';
import type { DataSource } from '../../../common/experiments/shared/dataSource';
import type { AttentionBlock } from '../../../common/models/attentionDetect';
import type { PaddedBatch } from '../../../common/models/classifierInput';
import type { ModelTaskOverride } from '../../../common/models/modelTask';
import type { ModelProto } from '../../../common/models/onnxModel';

export class ExperimentModelError extends Error {
  override readonly name = 'ExperimentModelError';
}

/** The spec's model, data and their limits. */
export interface ModelSpecPart {
  readonly model: string;
  readonly data: DataSource;
  readonly limit?: number | undefined;
  readonly maxLength?: number | undefined;
  readonly task?: ModelTaskOverride | undefined;
}

/** What every prepared model is, whatever its source: the graph, its blocks, how it is fed and how its output is read. */
export interface ModelCore {
  readonly name: string;
  readonly sha256: string;
  /** embedding: a bare encoder, its output a pooled vector (imported models). */
  readonly kind: 'classifier' | 'lm' | 'embedding';
  readonly proto: ModelProto;
  /** The file `proto` was decoded from, when its weights can be read from there by sessions (modelFile.ts). */
  readonly file?: ModelFile;
  readonly blocks: readonly AttentionBlock[];
  readonly labels?: readonly string[];
  readonly padId: number;
  /** Longest sequence the model accepts (language models: their context length, continuations included). */
  readonly contextLength: number;
  /** The output holding logits. */
  readonly outputName: string;
  feeds(batch: PaddedBatch): Record<string, Tensor>;
  /**
   * Output distributions of batch row `row` (real length `length`): classifier one, LM one per
   * position 0..length-2, embedding the pooled vector.
   */
  distributions(logits: Float32Array, dims: readonly number[], row: number, length: number): Float64Array[];
  /**
   * The one prediction an explanation is about: the class distribution (classifier), or the
   * next-token distribution after the last real token (LM, position length-1).
   */
  prediction(logits: Float32Array, dims: readonly number[], row: number, length: number): Float64Array;
  /** The query position whose prediction is explained: 0 ([CLS]) for a classifier, length-1 for an LM. */
  target(length: number): number;
}
