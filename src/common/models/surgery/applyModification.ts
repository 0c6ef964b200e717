/**
 * Applying a modification: parse it, find the blocks, let each operation choose its blocks,
 * rewrite chosen fused blocks into the explicit form, check, edit every chosen block (the
 * registered per-block operations, ./operations.ts), cut at the embeddings, and assemble the
 * modified model.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { AttentionBlock } from '../attentionDetect';
import { findAttentionBlocks } from '../attentionDetect';
import type { ModelProto, NodeProto } from '../onnxModel';
import { int64ToNumber } from '../onnxModel';
import type { BlockDims } from './blockDims';
import { blockDims } from './blockDims';
import { chooseLayers, describeBlock, requireHeads, requireUnfused } from './blocks';
import { cutAtEmbeddings } from './cutAtEmbeddings';
import { GraphEditor, editedGraph } from './graphEditor';
import type { Modification, ModificationInput, SurgeryResult, SurgeryShape } from './modification';
import { SurgeryError, modificationNeedsShape, parseModification } from './modification';
import type { BlockOperationName, BlockSite, ChosenBlocks, SurgeryContext } from './operation';
import { BLOCK_OPERATIONS, BLOCK_OPERATION_NAMES } from './operations';
import { unfuse } from './unfuse/unfuse';

const { onnx } = pkg;

type Chosen = { [K in BlockOperationName]: Set<AttentionBlock> };

function checkShape(m: Modification, shape: SurgeryShape | null): void {
  if (!modificationNeedsShape(m)) return;
  if (shape === null) throw new SurgeryError('this modification needs the concrete batch size and sequence length (the modified model is specific to them)');
  for (const k of ['batch', 'seqLen'] as const) {
    const v = shape[k];
    if (!Number.isSafeInteger(v) || v < 1) throw new SurgeryError(`shape.${k} must be a positive integer, got ${String(v)}`);
  }
}

/** The blocks operation `name` names (none where the modification does not ask for it). */
function chooseFor<K extends BlockOperationName>(name: K, m: Modification, blocks: readonly AttentionBlock[]): Set<AttentionBlock> {
  const options = m[name];
  if (options === undefined) return new Set();
  const op = BLOCK_OPERATIONS[name];
  const layers = op.layers(options);
  return new Set(layers === 'none' ? [] : chooseLayers(blocks, layers, op.what(options)));
}

function chooseBlocks(m: Modification, blocks: readonly AttentionBlock[]): Chosen {
  const chosen: Partial<Chosen> = {};
  for (const name of BLOCK_OPERATION_NAMES) chosen[name] = chooseFor(name, m, blocks);
  return chosen as Chosen;
}

/** Fused blocks that an operation names are rewritten into the explicit form first; the blocks are then found again. */
function rewriteFused(model: ModelProto, blocks: AttentionBlock[], chosen: Chosen, shape: SurgeryShape, notes: string[]): { model: ModelProto; blocks: AttentionBlock[]; chosen: Chosen } {
  const fused = blocks.filter((b) => b.form !== 'unfused' && BLOCK_OPERATION_NAMES.some((name) => chosen[name].has(b)));
  if (fused.length === 0) return { model, blocks, chosen };
  const rewritten = unfuse(model, fused, shape);
  const again = findAttentionBlocks(rewritten);
  for (const b of fused) {
    const nb = again[b.index];
    if (again.length !== blocks.length || nb === undefined || nb.form !== 'unfused') {
      throw new SurgeryError(`${describeBlock(b)}: the explicit rewrite of this fused block was not recognised as attention`);
    }
    notes.push(`layer ${b.index}: fused ${b.form} rewritten as explicit MatMul-Softmax-MatMul attention`);
  }
  const remapped: Partial<Chosen> = {};
  for (const name of BLOCK_OPERATION_NAMES) remapped[name] = new Set([...chosen[name]].map((b) => again[b.index] as AttentionBlock));
  return { model: rewritten, blocks: again, chosen: remapped as Chosen };
}

function checkFor<K extends BlockOperationName>(name: K, m: Modification, chosen: ChosenBlocks): void {
  const options = m[name];
  if (options === undefined) return;
  const op = BLOCK_OPERATIONS[name];
  for (const b of chosen[name]) {
    requireUnfused(b, op.what(options));
    op.check?.(b, options, chosen);
  }
}

function editFor<K extends BlockOperationName>(name: K, m: Modification, site: BlockSite, ctx: SurgeryContext): void {
  const options = m[name];
  if (options !== undefined) BLOCK_OPERATIONS[name].edit(site, options, ctx);
}

/** Edit each chosen block at its ·V MatMul: first what it computes, then what is exposed of it. */
function editBlocks(m: Modification, blocks: readonly AttentionBlock[], chosen: ChosenBlocks, ctx: SurgeryContext): void {
  const { ed } = ctx;
  for (const b of blocks) {
    const names = BLOCK_OPERATION_NAMES.filter((name) => chosen[name].has(b));
    if (names.length === 0) continue;
    const pv = b.nodes.pv;
    if (pv === undefined) throw new SurgeryError(`${describeBlock(b)} has no ·V MatMul`);
    const heads = requireHeads(b, 'exposeAttention');
    const at = pv.index;
    const probabilities = (ed.nodes[at] as NodeProto).input?.[0] ?? '';
    const site: BlockSite = { block: b, heads, at, probabilities, exposed: chosen.exposeAttention.has(b), weights: probabilities };
    for (const stage of ['weights', 'expose'] as const) {
      for (const name of names) if (BLOCK_OPERATIONS[name].stage === stage) editFor(name, m, site, ctx);
    }
  }
  for (const name of BLOCK_OPERATION_NAMES) finishFor(name, m, chosen, ctx);
}

function finishFor<K extends BlockOperationName>(name: K, m: Modification, chosen: ChosenBlocks, ctx: SurgeryContext): void {
  const options = m[name];
  if (options !== undefined) BLOCK_OPERATIONS[name].finish?.(options, chosen[name], ctx);
}

/** The modified model: the edited graph, with the opsets the spliced graphs import. */
function modifiedModel(model: ModelProto, ed: GraphEditor): ModelProto {
  const opsetImport = (model.opsetImport ?? []).map((o) => onnx.OperatorSetIdProto.create({ domain: o.domain ?? '', version: o.version ?? 0 }));
  for (const [domain, version] of ed.extraOpsets) {
    const existing = opsetImport.find((o) => (o.domain ?? '') === domain);
    if (existing === undefined) opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
    else if (int64ToNumber(existing.version) < version) existing.version = version;
  }
  return onnx.ModelProto.create({ ...model, opsetImport, graph: editedGraph(model.graph as OnnxTypes.IGraphProto, ed) });
}

/** Apply a modification. `shape` is required unless the modification is cutAtEmbeddings alone. */
export function applyModification(original: ModelProto, modificationInput: ModificationInput | Modification, shape: SurgeryShape | null): SurgeryResult {
  const m = parseModification(modificationInput);
  if (original.graph === null || original.graph === undefined) throw new SurgeryError('the model has no graph');
  checkShape(m, shape);
  const sh = shape ?? { batch: 1, seqLen: 1 };
  const notes: string[] = [];
  const found = findAttentionBlocks(original);
  const { model, blocks, chosen } = rewriteFused(original, found, chooseBlocks(m, found), sh, notes);
  for (const name of BLOCK_OPERATION_NAMES) checkFor(name, m, chosen);
  const dims = modificationNeedsShape(m) ? blockDims(model, blocks, sh) : new Map<number, BlockDims>();
  const dimsOf = (b: AttentionBlock): BlockDims => {
    const d = dims.get(b.index);
    if (d === undefined) throw new SurgeryError(`${describeBlock(b)}: its query and key lengths are not known`);
    return d;
  };
  const ctx: SurgeryContext = { ed: new GraphEditor(model.graph as OnnxTypes.IGraphProto), model, shape: sh, dims: dimsOf, notes, exposed: [], addedInputs: [], removedInputs: [] };
  editBlocks(m, blocks, chosen, ctx);
  if (m.cutAtEmbeddings === true) cutAtEmbeddings(ctx);
  return { model: modifiedModel(model, ctx.ed), blocks, exposed: ctx.exposed, addedInputs: ctx.addedInputs, removedInputs: ctx.removedInputs, notes };
}
