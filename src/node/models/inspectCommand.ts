/**
 * `attn inspect MODEL [--json]`: what an ONNX model file takes and gives, and the attention
 * blocks found in it.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AttentionBlock } from '../../common/models/attentionDetect';
import { ATTENTION_PATTERNS_LOOKED_FOR, findAttentionBlocks } from '../../common/models/attentionDetect';
import type { AttentionScaleSite } from '../../common/models/attentionScale';
import { describeScale, formatScale, scaleSitesShort } from '../../common/models/attentionScale';
import type { IoValue, OpsetImport } from '../../common/models/onnxModel';
import { OnnxModelError, decodeOnnxModel, int64ToNumber, modelIo, opsetImports } from '../../common/models/onnxModel';
import { modelScaleSites } from './scaleSites';

/** A block as inspection reports it: what detection found, and where its scale factors are applied. */
export interface InspectedBlock extends AttentionBlock {
  /** One entry per scaling node (Q's and K's before the product, the scores' after it, a fused op's); their factors multiply to effectiveScale. */
  readonly scaleSites: readonly AttentionScaleSite[];
}

export interface ModelInspection {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: readonly OpsetImport[];
  readonly inputs: readonly IoValue[];
  readonly outputs: readonly IoValue[];
  readonly nodeCount: number;
  readonly blocks: readonly InspectedBlock[];
  /** Set when no attention block was found: what was looked for. */
  readonly message?: string;
}

/** Inspect an already-read model (`path` only names it). */
export function inspectModelBytes(bytes: Uint8Array, path: string): ModelInspection {
  const model = decodeOnnxModel(bytes, basename(path));
  const { inputs, outputs } = modelIo(model);
  const found = findAttentionBlocks(model);
  const sites = modelScaleSites(model, found);
  const blocks = found.map((b, i): InspectedBlock => ({ ...b, scaleSites: sites[i] ?? [] }));
  const producer = [model.producerName ?? '', model.producerVersion ?? ''].filter((s) => s !== '').join(' ');
  const inspection: ModelInspection = {
    path,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    irVersion: int64ToNumber(model.irVersion),
    producer,
    opsets: opsetImports(model),
    inputs,
    outputs,
    nodeCount: (model.graph?.node ?? []).length,
    blocks,
  };
  if (blocks.length > 0) return inspection;
  const softmaxes = (model.graph?.node ?? []).filter((n) => n.opType === 'Softmax').length;
  const seen = softmaxes === 0 ? 'The graph has no Softmax node.' : `The graph has ${softmaxes} Softmax node(s), none of them between a Q·Kᵀ MatMul and a ·V MatMul.`;
  return {
    ...inspection,
    message: `no attention blocks found in ${basename(path)}. Looked for: ${ATTENTION_PATTERNS_LOOKED_FOR.map((p, i) => `(${i + 1}) ${p}`).join('; ')}. ${seen}`,
  };
}

/** Read, decode and inspect an ONNX model file. Errors name the file and say what is wrong. */
export async function inspectModelFile(path: string): Promise<ModelInspection> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnnxModelError(code === 'ENOENT' ? `model file not found: ${path}` : `cannot read model file ${path}: ${(e as Error).message}`);
  }
  if (info.isDirectory()) throw new OnnxModelError(`${path} is a directory, not an ONNX model file`);
  const bytes = new Uint8Array(await readFile(path));
  try {
    return inspectModelBytes(bytes, path);
  } catch (e) {
    if (e instanceof OnnxModelError && /is not an ONNX model/.test(e.message) && path.toLowerCase().endsWith('.bin')) {
      throw new OnnxModelError(
        `${e.message}. If it is a llama2.c checkpoint, convert it to ONNX first: npx attn convert CHECKPOINT --tokenizer TOKENIZER --out MODEL.onnx`,
      );
    }
    throw e;
  }
}

/** A declared shape as text ([batch, 128], ? for an unknown dim). */
export function formatDims(d: IoValue['dims']): string {
  if (d === null) return '(unknown rank)';
  return `[${d.map((x) => (x === null ? '?' : String(x))).join(', ')}]`;
}

function num(x: number | null): string {
  return x === null ? '?' : String(x);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** What the block table shows of a block (an InspectedBlock, or the contract's AttentionBlockInfo). */
export type BlockRow = Pick<InspectedBlock, 'index' | 'form' | 'heads' | 'kvHeads' | 'headSize' | 'causal' | 'scaling' | 'masking' | 'rope' | 'effectiveScale' | 'scaleSites'>;

/**
 * The attention blocks as a table, one row per block (layer, form, heads, kv heads, head size,
 * causal, scaling, masking, rope, effective scale, where the scale is applied).
 */
export function blockTableLines(blocks: readonly BlockRow[]): string[] {
  const rows = blocks.map((b) => [
    String(b.index),
    b.form,
    num(b.heads),
    num(b.kvHeads),
    num(b.headSize),
    b.causal === 'unknown' ? 'unknown' : b.causal ? 'yes' : 'no',
    b.scaling,
    b.masking,
    b.rope ? 'yes' : 'no',
    formatScale(b.effectiveScale).replace(/ /g, ''),
    scaleSitesShort(b.scaleSites),
  ]);
  return table(['layer', 'form', 'heads', 'kv heads', 'head size', 'causal', 'scaling', 'masking', 'rope', 'scale', 'scaled on'], rows);
}

/** One line per distinct scale of the blocks: its value and where it comes from (the layers it is in, where they differ). */
export function scaleLines(blocks: readonly BlockRow[]): string[] {
  const byText = new Map<string, number[]>();
  for (const b of blocks) {
    const text = describeScale(b.effectiveScale, b.scaleSites);
    byText.set(text, [...(byText.get(text) ?? []), b.index]);
  }
  if (byText.size === 1) return [...byText.keys()];
  return [...byText].map(([text, layers]) => `layer${layers.length > 1 ? 's' : ''} ${layers.join(', ')}: ${text}`);
}

/** A human-readable report. */
export function formatInspection(i: ModelInspection): string {
  const lines: string[] = [];
  lines.push(`model     ${i.path}`);
  lines.push(`size      ${i.bytes} bytes, sha256 ${i.sha256}`);
  lines.push(`producer  ${i.producer === '' ? '(not recorded)' : i.producer}, IR version ${i.irVersion}`);
  lines.push(`opsets    ${i.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', ')}`);
  lines.push(`nodes     ${i.nodeCount}`);
  lines.push('');
  lines.push('inputs');
  for (const v of i.inputs) lines.push(`  ${v.name}  ${v.dtype} ${formatDims(v.dims)}`);
  lines.push('outputs');
  for (const v of i.outputs) lines.push(`  ${v.name}  ${v.dtype} ${formatDims(v.dims)}`);
  lines.push('');
  if (i.blocks.length === 0) {
    lines.push(i.message ?? 'no attention blocks found');
    return lines.join('\n');
  }
  lines.push(`attention blocks: ${i.blocks.length}`);
  lines.push(...blockTableLines(i.blocks).map((l) => `  ${l}`));
  const descriptions = [...new Set(i.blocks.map((b) => b.description))];
  lines.push('');
  for (const d of descriptions) lines.push(`  ${d}`);
  for (const l of scaleLines(i.blocks)) lines.push(`  ${l}`);
  return lines.join('\n');
}
