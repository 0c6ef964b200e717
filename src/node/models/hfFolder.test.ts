/**
 * Importing a model in the Hugging Face folder layout from disk, through the CLI (`attn import`,
 * `attn models`) and the model library: the built-in spam-encoder laid out as an HF folder
 * (model.onnx or onnx/model.onnx, tokenizer.json, a config.json written here), the choice of
 * the model file, broken files refused with nothing stored, and external data inlined (a small
 * model written here with onnx-proto, run with onnxruntime-node) or refused when it leaves the folder.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { externalDataModel } from '../../../test/support/externalDataModel';
import { BUILTIN_MODELS_DIR } from '../../../test/support/paths';
import { buildTestModel } from '../../../test/support/testModels';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { main } from '../cli/cli';
import { formatImport, importJson, runImport } from '../cli/commands/import';
import { createSession } from '../ort/session';
import { Store } from '../store/store';
import { createModelLibrary } from './modelLibrary';

const { onnx } = pkg;
const SPAM = join(BUILTIN_MODELS_DIR, 'spam-encoder');

const SPAM_CONFIG = {
  architectures: ['BertForSequenceClassification'],
  model_type: 'bert',
  id2label: { 0: 'ham', 1: 'spam' },
  label2id: { ham: 0, spam: 1 },
  num_attention_heads: 4,
  hidden_size: 128,
  num_hidden_layers: 4,
  max_position_embeddings: 512,
  // unknown fields are kept as they are
  classifier_dropout: null,
  workbench_note: { trained_by: 'models/spam-encoder/train.py' },
};

let dir: string;
let db: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'attn-hf-'));
  db = join(dir, 'store', 'workbench.sqlite');
  mkdirSync(join(dir, 'store'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const importedDir = (): string => join(dir, 'store', 'models', 'imported');
const importedFiles = (): string[] => (existsSync(importedDir()) ? readdirSync(importedDir()) : []);
function storedModels(): number {
  const store = Store.open(db);
  try {
    return store.models.list().length;
  } finally {
    store.close();
  }
}

/** The spam-encoder as a Hugging Face folder: model.onnx (or onnx/model.onnx), tokenizer.json, config.json. */
function spamFolder(name: string, layout: 'top' | 'onnx' = 'top', config: unknown = SPAM_CONFIG): string {
  const folder = join(dir, name);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  copyFileSync(join(SPAM, 'model.onnx'), join(folder, layout === 'top' ? 'model.onnx' : 'onnx/model.onnx'));
  copyFileSync(join(SPAM, 'tokenizer.json'), join(folder, 'tokenizer.json'));
  writeFileSync(join(folder, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  writeFileSync(join(folder, 'README.md'), 'not read');
  return folder;
}

/** Runs the CLI in-process and returns what it wrote on stdout. */
async function cli(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await main(['node', 'attn', ...args]);
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  expect(process.exitCode ?? 0).toBe(0);
  return out;
}

describe('attn import: a Hugging Face folder', () => {
  it('imports the spam-encoder folder through the CLI function: 4 blocks, classifier ham/spam, its inputs and files kept', async () => {
    const folder = spamFolder('spam-bert');
    const o = await runImport(folder, { db, log: () => undefined });
    expect(o).toMatchObject({ name: 'spam-bert', added: true, modelFile: 'model.onnx', externalData: [], source: 'upload' });
    expect(o.task).toEqual({ kind: 'classifier', labels: ['ham', 'spam'], output: 'logits' });
    expect(o.inputs).toEqual([
      { name: 'input_ids', role: 'input_ids' },
      { name: 'attention_mask', role: 'attention_mask' },
    ]);
    expect(o.config).toMatchObject({ architectures: ['BertForSequenceClassification'], modelType: 'bert', heads: 4, kvHeads: 4, hidden: 128, layers: 4, maxPositions: 512 });
    expect(o.tokenizerVocabSize).toBe(6000);
    expect(o.folderFiles).toEqual(['config', 'tokenizer']);
    expect(o.inspection.blocks).toHaveLength(4);
    for (const b of o.inspection.blocks) expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: 32, masking: 'add', causal: false });
    for (const b of o.inspection.blocks) expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(32), 6);
    // the stored file is the model as it was, named by its sha256, beside the store
    expect(o.path).toBe(join(importedDir(), `${o.sha256}.onnx`));
    expect(readFileSync(o.path).equals(readFileSync(join(SPAM, 'model.onnx')))).toBe(true);
    expect(importedFiles()).toEqual([`${o.sha256}.onnx`]);

    const j = importJson(o);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['id', 'name', 'blocks', 'task', 'inputs']));
    expect(j.inputs[0]).toEqual({ name: 'input_ids', role: 'input_ids', dtype: 'int64', dims: ['batch', 'sequence'] });
    const text = formatImport(o);
    expect(text).toMatch(/imported {2}spam-bert as model \d+/);
    expect(text).toContain('task      classifier: ham, spam (output logits)');
    expect(text).toContain('tokenizer tokenizer.json, 6000 tokens');
    expect(text).toMatch(/attention blocks: 4\n {2}layer +form +heads/);

    // the folder files are kept with the model, config.json as it was written (unknown fields included)
    const store = Store.open(db);
    try {
      const details = store.models.details(o.id);
      expect(details?.attentionBlocks).toBe(4);
      expect(details?.files.config).toBe(JSON.stringify(SPAM_CONFIG, null, 2));
      expect(details?.files.tokenizer).toBe(readFileSync(join(SPAM, 'tokenizer.json'), 'utf8'));
      expect(JSON.parse(details?.taskJson ?? 'null')).toEqual(o.task);
    } finally {
      store.close();
    }
  });

  it('imports through the library into the same store, and lists it with its task, labels, heads, layers, tokenizer and blocks', async () => {
    const folder = spamFolder('spam-bert');
    const first = await runImport(folder, { db, name: 'Spam BERT', log: () => undefined });
    const store = Store.open(db);
    const library = createModelLibrary({ store, onProgress: () => undefined, onFetched: () => undefined, log: () => undefined });
    try {
      const again = await library.importFromDisk(folder);
      expect(again).toMatchObject({ id: first.id, added: false });
      const { imported } = await library.list();
      expect(imported).toEqual([
        expect.objectContaining({
          id: first.id,
          name: 'Spam BERT',
          task: { kind: 'classifier', labels: ['ham', 'spam'], output: 'logits' },
          labels: ['ham', 'spam'],
          heads: 4,
          kvHeads: 4,
          layers: 4,
          hidden: 128,
          hasTokenizer: true,
          attentionBlocks: 4,
          inputs: [
            { name: 'input_ids', role: 'input_ids' },
            { name: 'attention_mask', role: 'attention_mask' },
          ],
        }),
      ]);
      expect((await library.inspect(first.id)).blocks).toHaveLength(4);
    } finally {
      await library.close();
      store.close();
    }
  });

  it('reads onnx/model.onnx when there is no model.onnx; a single .onnx path imports without folder files', async () => {
    const o = await runImport(spamFolder('spam-onnx-layout', 'onnx'), { db, log: () => undefined });
    expect(o).toMatchObject({ modelFile: 'onnx/model.onnx', task: { kind: 'classifier', labels: ['ham', 'spam'] } });
    expect(o.inspection.blocks).toHaveLength(4);

    const single = join(dir, 'two-layer.onnx');
    writeFileSync(single, buildTestModel('unfused-div-add').bytes);
    const s = await runImport(single, { db, log: () => undefined });
    expect(s).toMatchObject({ name: 'two-layer.onnx', modelFile: 'two-layer.onnx', task: null, folderFiles: [], tokenizerVocabSize: null });
    expect(s.inputs.every((i) => i.role === null)).toBe(true);
    expect(s.inspection.blocks).toHaveLength(2);
    expect(formatImport(s)).toContain('task      unknown (no config.json): inputs come as .npy files');
  });

  it('`attn import --json` prints one JSON object; `attn models --json` lists the catalog and the import', async () => {
    const folder = spamFolder('spam-cli');
    const printed = JSON.parse(await cli(['import', folder, '--db', db, '--json'])) as { id: number; name: string; blocks: unknown[]; task: unknown; inputs: unknown[] };
    expect(printed).toMatchObject({ name: 'spam-cli', task: { kind: 'classifier', labels: ['ham', 'spam'] } });
    expect(printed.blocks).toHaveLength(4);
    expect(printed.inputs).toHaveLength(2);

    const listing = JSON.parse(await cli(['models', '--db', db, '--json', '--cache-dir', join(dir, 'cache')])) as {
      catalog: { name: string }[];
      imported: { id: number; name: string; task?: unknown; attentionBlocks?: number; labels?: string[] }[];
    };
    expect(listing.catalog.map((c) => c.name)).toContain('stories260K');
    expect(listing.imported).toEqual([expect.objectContaining({ id: printed.id, name: 'spam-cli', task: printed.task, labels: ['ham', 'spam'], attentionBlocks: 4 })]);
    const text = await cli(['models', '--db', db, '--cache-dir', join(dir, 'cache')]);
    expect(text).toMatch(/stories260K .* not cached/);
    expect(text).toMatch(new RegExp(`imported models in .*workbench\\.sqlite:\\n {2}id +name +task +blocks.*\\n {2}${printed.id} +spam-cli +classifier: ham, spam +4 +4 +4 +yes +upload`));
    // a store that does not exist is not created by listing
    const none = join(dir, 'nowhere', 'w.sqlite');
    expect(JSON.parse(await cli(['models', '--db', none, '--json', '--cache-dir', join(dir, 'cache')])).imported).toEqual([]);
    expect(existsSync(none)).toBe(false);
  });
});

describe('attn import: errors name the problem and store nothing', () => {
  async function refused(path: string, opts: { file?: string } = {}): Promise<string> {
    const r = await runImport(path, { db, ...opts, log: () => undefined }).then(
      () => '',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    expect(r).not.toBe('');
    expect(storedModels()).toBe(0);
    expect(importedFiles()).toEqual([]);
    return r;
  }

  it('several candidate model files and none chosen lists them; --file chooses; no model file says what was looked for', async () => {
    const folder = join(dir, 'quantized');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    copyFileSync(join(SPAM, 'model.onnx'), join(folder, 'onnx', 'model_quantized.onnx'));
    copyFileSync(join(SPAM, 'model.onnx'), join(folder, 'onnx', 'model_fp16.onnx'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify(SPAM_CONFIG));
    expect(await refused(folder)).toBe(
      'quantized was not imported: the folder has 2 ONNX models and none is model.onnx or onnx/model.onnx; choose one (--file): onnx/model_fp16.onnx, onnx/model_quantized.onnx',
    );
    expect(await refused(folder, { file: 'onnx/model_int8.onnx' })).toMatch(/the folder has no file onnx\/model_int8\.onnx; its ONNX models are: onnx\/model_fp16\.onnx, onnx\/model_quantized\.onnx/);
    expect(await refused(folder, { file: '../quantized/onnx/model_fp16.onnx' })).toMatch(/leaves the model's folder/);
    const chosen = await runImport(folder, { db, file: 'onnx/model_quantized.onnx', log: () => undefined });
    expect(chosen).toMatchObject({ modelFile: 'onnx/model_quantized.onnx', task: { kind: 'classifier' } });

    const empty = join(dir, 'no-model');
    mkdirSync(empty);
    writeFileSync(join(empty, 'config.json'), '{}');
    const store = Store.open(db);
    store.models.delete(chosen.id);
    store.close();
    rmSync(importedDir(), { recursive: true });
    expect(await refused(empty)).toBe('no-model was not imported: no ONNX model in the folder: looked for model.onnx and onnx/model.onnx and any .onnx file at the top or in onnx/');
    expect(await refused(join(dir, 'missing'))).toMatch(/no such file or folder: .*missing/);
  });

  it('a broken config.json or tokenizer.json is refused with the file named', async () => {
    expect(await refused(spamFolder('bad-json', 'top', '{"architectures": ["BertForSequenceClassification"],'))).toMatch(/^bad-json was not imported: config\.json is not valid JSON/);
    expect(await refused(spamFolder('bad-heads', 'top', { ...SPAM_CONFIG, num_attention_heads: 'four' }))).toMatch(
      /^bad-heads was not imported: config\.json is not valid: num_attention_heads: /,
    );
    expect(await refused(spamFolder('bad-labels', 'top', { ...SPAM_CONFIG, id2label: { 0: 'ham', 2: 'spam' } }))).toMatch(/config\.json's id2label has no label for class 1/);
    expect(await refused(spamFolder('array-config', 'top', '[1, 2]'))).toMatch(/config\.json must be a JSON object/);

    const badTokenizer = spamFolder('bad-tokenizer');
    writeFileSync(join(badTokenizer, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [] }));
    expect(await refused(badTokenizer)).toMatch(/^bad-tokenizer was not imported: tokenizer\.json: not a valid tokenizer\.json: model: /);
    writeFileSync(join(badTokenizer, 'tokenizer.json'), readFileSync(join(SPAM, 'tokenizer.json'), 'utf8').slice(0, 500));
    expect(await refused(badTokenizer)).toMatch(/tokenizer\.json is not valid JSON/);

    const badPreprocessor = spamFolder('bad-preprocessor');
    writeFileSync(join(badPreprocessor, 'preprocessor_config.json'), JSON.stringify({ do_resize: 'yes' }));
    expect(await refused(badPreprocessor)).toMatch(/preprocessor_config\.json is not valid: do_resize: /);
  });

  it('a config.json whose model has an input the workbench cannot feed is refused, naming the input', async () => {
    const folder = join(dir, 'odd-inputs');
    mkdirSync(folder);
    writeFileSync(join(folder, 'model.onnx'), buildTestModel('unfused-div-add').bytes);
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'] }));
    expect(await refused(folder)).toMatch(/^odd-inputs was not imported: the model's input "\w+" cannot be fed/);
  });
});

/** Runs the affine model on x = [[1, 0, 0], [0, 1, 1]] in onnxruntime-node: y, flat. */
async function runAffine(bytes: Uint8Array): Promise<number[]> {
  const { session } = await createSession(bytes, { provider: 'cpu' });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 0, 0, 0, 1, 1]), [2, 3]) });
    return [...(out['y']?.data as Float32Array)];
  } finally {
    await session.release();
  }
}

describe('attn import: external data', () => {
  it('inlines model.onnx_data into the stored model, which runs in onnxruntime-node', async () => {
    const folder = join(dir, 'affine');
    mkdirSync(folder);
    const { model, data } = externalDataModel('model.onnx_data');
    writeFileSync(join(folder, 'model.onnx'), model);
    writeFileSync(join(folder, 'model.onnx_data'), data);
    const o = await runImport(folder, { db, log: () => undefined });
    expect(o).toMatchObject({ name: 'affine', modelFile: 'model.onnx', externalData: ['model.onnx_data'], task: null });
    expect(o.inputs).toEqual([{ name: 'x', role: null }]);
    expect(o.inspection.blocks).toEqual([]);
    const stored = new Uint8Array(readFileSync(o.path));
    expect(decodeOnnxModel(stored).graph?.initializer?.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)).toBe(true);
    // x = [[1, 0, 0], [0, 1, 1]]: y = [[1, 2], [3 + 5, 4 + 6]] + [0.5, -1]
    expect(await runAffine(stored)).toEqual([1.5, 1, 8.5, 9]);
    expect(formatImport(o)).toContain('read      model.onnx; external data model.onnx_data inlined');
  });

  it('reads external data named by any location, in a subfolder, and beside a single .onnx path', async () => {
    const folder = join(dir, 'nested');
    mkdirSync(join(folder, 'onnx', 'weights'), { recursive: true });
    const { model, data } = externalDataModel('weights/affine.bin');
    writeFileSync(join(folder, 'onnx', 'model.onnx'), model);
    writeFileSync(join(folder, 'onnx', 'weights', 'affine.bin'), data);
    const o = await runImport(folder, { db, log: () => undefined });
    expect(o).toMatchObject({ modelFile: 'onnx/model.onnx', externalData: ['weights/affine.bin'] });
    expect(await runAffine(new Uint8Array(readFileSync(o.path)))).toEqual([1.5, 1, 8.5, 9]);
    const single = await runImport(join(folder, 'onnx', 'model.onnx'), { db, name: 'affine-file', log: () => undefined });
    expect(single).toMatchObject({ id: o.id, added: false, externalData: ['weights/affine.bin'] });
  });

  it('refuses a location that leaves the folder, an absolute one, a missing file and data that ends too soon', async () => {
    async function refusedWith(location: string, write: (folder: string, data: Uint8Array) => void): Promise<string> {
      const folder = join(dir, `case-${basename(location).replace(/[^a-z]/gi, '')}-${Math.random().toString(36).slice(2)}`);
      mkdirSync(folder);
      const { model, data } = externalDataModel(location);
      writeFileSync(join(folder, 'model.onnx'), model);
      write(folder, data);
      const message = await runImport(folder, { db, log: () => undefined }).then(
        () => '',
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      expect(storedModels()).toBe(0);
      expect(importedFiles()).toEqual([]);
      return message;
    }
    // ../x exists (beside the folder), and is still refused
    expect(await refusedWith('../x', (_folder, data) => writeFileSync(join(dir, 'x'), data))).toMatch(
      /was not imported: model\.onnx's external data location "\.\.\/x" leaves the model's folder/,
    );
    expect(await refusedWith('weights/../../x', () => undefined)).toMatch(/leaves the model's folder/);
    expect(await refusedWith(join(dir, 'x'), () => undefined)).toMatch(/is an absolute path/);
    expect(await refusedWith('model.onnx_data', () => undefined)).toMatch(/model\.onnx keeps weights in model\.onnx_data, which is not in its folder/);
    expect(await refusedWith('model.onnx_data', (folder, data) => writeFileSync(join(folder, 'model.onnx_data'), data.subarray(0, 28)))).toMatch(
      /tensor b's external data \(offset 24, 8 bytes\) goes past the end of model\.onnx_data \(28 bytes\)/,
    );
  });
});
