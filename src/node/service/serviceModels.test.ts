import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, EventPayload, ModelFetched, ModelProgress } from '../../common/contract';
import { MAX_IMPORT_REQUEST_BASE64_LENGTH, MAX_LLAMA2C_CHECKPOINT_BASE64_LENGTH, MAX_LLAMA2C_TOKENIZER_BASE64_LENGTH, MAX_MODEL_IMPORT_BASE64_LENGTH } from '../../common/contract';
import { buildTestModel } from '../../../test/support/testModels';
import { convertedName, displayName } from '../models/modelLibrary';
import type { Service } from './service';
import { createService } from './service';
import { BUILTIN_MODELS_DIR, REPO_ROOT, SHARED_MODELS, TS_WORKER_BOOTSTRAP } from '../../../test/support/paths';
import pkg from 'onnx-proto';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../web/webHost';

const MIRROR = SHARED_MODELS;
const workerPath = TS_WORKER_BOOTSTRAP;

let dir: string;
let svc: Service;
const events: { event: EventName; payload: unknown }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attn-models-'));
  events.length = 0;
  svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath, modelMirror: MIRROR });
  svc.subscribe(<E extends EventName>(event: E, payload: EventPayload<E>) => events.push({ event, payload }));
});

afterEach(async () => {
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const importedFiles = (): string[] => (existsSync(join(dir, 'models', 'imported')) ? readdirSync(join(dir, 'models', 'imported')) : []);

function waitForFetched(name: string): Promise<ModelFetched> {
  return new Promise((res) => {
    const off = svc.subscribe(<E extends EventName>(event: E, payload: EventPayload<E>) => {
      if (event === 'model.fetched' && (payload as ModelFetched).name === name) {
        off();
        res(payload as ModelFetched);
      }
    });
  });
}

describe('service: models.import / inspect / delete', () => {
  it('imports an ONNX file, lists it, shows its blocks per layer and deletes it with its file', async () => {
    const model = buildTestModel('unfused-div-add');
    const { id } = await svc.call('models.import', { importer: 'onnx', name: 'C:\\models\\tiny.onnx', files: { model: b64(model.bytes) } });
    const list = await svc.call('models.list', {});
    expect(list.imported).toEqual([expect.objectContaining({ id, name: 'tiny.onnx', bytes: model.bytes.length, source: 'upload' })]);
    const sha = list.imported[0]!.sha256;
    expect(importedFiles()).toEqual([`${sha}.onnx`]);

    const inspection = await svc.call('models.inspect', { id });
    expect(inspection.blocks).toHaveLength(2);
    expect(inspection.blocks.map((b) => b.index)).toEqual([0, 1]);
    expect(inspection.blocks[0]).toMatchObject({ form: 'unfused', scaling: 'div', masking: 'add', heads: model.heads, headSize: model.headSize });
    expect(inspection.inputs.map((i) => i.name)).toContain(model.inputName);
    expect(inspection.message).toBeNull();
    expect(inspection.sha256).toBe(sha);

    // the same file again is the same model
    expect(await svc.call('models.import', { importer: 'onnx', name: 'copy.onnx', files: { model: b64(model.bytes) } })).toEqual({ id });

    expect(await svc.call('models.delete', { id })).toEqual({ deleted: true });
    expect(importedFiles()).toEqual([]);
    expect((await svc.call('models.list', {})).imported).toEqual([]);
    expect(await svc.dispatch('models.inspect', { id })).toEqual({ ok: false, error: { code: 'not-found', message: `no model with id ${id}` } });
    expect((await svc.dispatch('models.delete', { id })).ok).toBe(false);
  });

  it('refuses what is not ONNX, empty, not base64 or too big, and stores nothing', async () => {
    const notOnnx = await svc.dispatch('models.import', { importer: 'onnx', name: 'notes.txt', files: { model: b64(new TextEncoder().encode('hello, this is not a model')) } });
    expect(notOnnx.ok).toBe(false);
    if (!notOnnx.ok) {
      expect(notOnnx.error.code).toBe('invalid-argument');
      expect(notOnnx.error.message).toMatch(/^notes\.txt was not imported: .*not an ONNX model/);
    }
    const bin = await svc.dispatch('models.import', { importer: 'onnx', name: 'stories.bin', files: { model: b64(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])) } });
    expect(bin.ok).toBe(false);
    for (const contentBase64 of ['', 'not base64!', 'A'.repeat(MAX_MODEL_IMPORT_BASE64_LENGTH + 4)]) {
      const r = await svc.dispatch('models.import', { importer: 'onnx', name: 'x.onnx', files: { model: contentBase64 } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('invalid-argument');
    }
    expect((await svc.dispatch('models.import', { importer: 'onnx', name: 'x.onnx', files: { model: 'AAAA' }, path: '/etc' })).ok).toBe(false);
    // files of another importer, an extra file and an unknown importer are refused by the contract
    expect((await svc.dispatch('models.import', { importer: 'onnx', name: 'x.onnx', files: { checkpoint: 'AAAA', tokenizer: 'AAAA' } })).ok).toBe(false);
    expect((await svc.dispatch('models.import', { importer: 'onnx', name: 'x.onnx', files: { model: 'AAAA', extra: 'AAAA' } })).ok).toBe(false);
    const unknown = await svc.dispatch('models.import', { importer: 'safetensors', name: 'x', files: { model: 'AAAA' } });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.code).toBe('invalid-argument');
    expect((await svc.call('models.list', {})).imported).toEqual([]);
    expect(importedFiles()).toEqual([]);
  });

  it('makes display names from client file names without using them as paths', () => {
    expect(displayName('../../etc/passwd')).toBe('passwd');
    expect(displayName('a\\b\\m.onnx')).toBe('m.onnx');
    expect(displayName('  \u0000 ')).toBe('model.onnx');
  });

  it('lets the web host carry an import of the largest allowed size', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBeGreaterThan(MAX_MODEL_IMPORT_BASE64_LENGTH + 1024);
  });
});

describe('service: models.import with the llama2c importer', () => {
  const ckpt = (): Uint8Array => new Uint8Array(readFileSync(join(MIRROR, 'stories260K', 'stories260K.bin')));
  const tok = (): Uint8Array => new Uint8Array(readFileSync(join(MIRROR, 'stories260K', 'tok512.bin')));
  const llama2c = (input: { name: string; checkpointBase64: string; tokenizerBase64: string }) =>
    ({ importer: 'llama2c', name: input.name, files: { checkpoint: input.checkpointBase64, tokenizer: input.tokenizerBase64 } }) as const;

  async function refused(input: { name: string; checkpointBase64: string; tokenizerBase64: string }): Promise<string> {
    const r = await svc.dispatch('models.import', llama2c(input));
    expect(r.ok).toBe(false);
    if (r.ok) return '';
    expect(r.error.code).toBe('invalid-argument');
    return r.error.message;
  }

  it('converts stories260K.bin + tok512.bin and imports the model (5 blocks, 8 heads, 4 kv heads)', async () => {
    const { id } = await svc.call('models.import', llama2c({ name: 'stories260K.bin', checkpointBase64: b64(ckpt()), tokenizerBase64: b64(tok()) }));
    const list = await svc.call('models.list', {});
    expect(list.imported).toEqual([expect.objectContaining({ id, name: 'stories260K.onnx', source: 'convert' })]);
    expect(importedFiles()).toEqual([`${list.imported[0]!.sha256}.onnx`]);
    const inspection = await svc.call('models.inspect', { id });
    expect(inspection.blocks).toHaveLength(5);
    for (const b of inspection.blocks) expect(b).toMatchObject({ heads: 8, kvHeads: 4, headSize: 8, causal: true, rope: true });
    expect(inspection.inputs.map((i) => i.name)).toContain('input_ids');

    // the same conversion again is the same model; the catalog fetch of the same files is too
    expect(await svc.call('models.import', llama2c({ name: 'again.bin', checkpointBase64: b64(ckpt()), tokenizerBase64: b64(tok()) }))).toEqual({ id });
    const fetched = waitForFetched('stories260K');
    await svc.call('models.fetch', { name: 'stories260K' });
    expect((await fetched).modelId).toBe(id);
  });

  it('refuses a truncated checkpoint, a bad header, swapped files and a vocabulary mismatch, and stores nothing', async () => {
    const c = ckpt();
    const t = tok();
    expect(await refused({ name: 'stories260K.bin', checkpointBase64: b64(c.subarray(0, c.length - 1000)), tokenizerBase64: b64(t) })).toMatch(
      /^stories260K\.onnx was not converted: llama2\.c checkpoint is truncated: its header \(legacy\) describes 1056540 bytes of model, but the file has only 1055540/,
    );
    expect(await refused({ name: 'tiny.bin', checkpointBase64: b64(c.subarray(0, 10)), tokenizerBase64: b64(t) })).toMatch(/llama2\.c checkpoint is truncated: 10 bytes/);
    const badHeader = c.slice();
    new DataView(badHeader.buffer).setInt32(8, 3, true); // n_layers 5 -> 3: the header no longer matches the weights
    expect(await refused({ name: 'bad.bin', checkpointBase64: b64(badHeader), tokenizerBase64: b64(t) })).toMatch(/^bad\.onnx was not converted: llama2\.c checkpoint \(legacy\) has an inconsistent header/);
    // swapped: the tokenizer as checkpoint is refused by its header
    expect(await refused({ name: 'tok512.bin', checkpointBase64: b64(t), tokenizerBase64: b64(c) })).toMatch(/^tok512\.onnx was not converted: llama2\.c checkpoint .*(inconsistent header|truncated)/);
    // the checkpoint as tokenizer
    expect(await refused({ name: 'stories260K.bin', checkpointBase64: b64(c), tokenizerBase64: b64(c) })).toMatch(/^stories260K\.onnx was not converted: not a llama2\.c tokenizer\.bin/);
    // a tokenizer with fewer tokens than the model's vocabulary (512)
    const small = t.subarray(0, t.length - 100);
    expect(await refused({ name: 'stories260K.bin', checkpointBase64: b64(c), tokenizerBase64: b64(small) })).toMatch(/tokenizer\.bin is truncated: .*the model's vocabulary has 512 tokens/);
    // and one with more bytes than the vocabulary uses
    const big = new Uint8Array(t.length + 8);
    big.set(t);
    expect(await refused({ name: 'stories260K.bin', checkpointBase64: b64(c), tokenizerBase64: b64(big) })).toMatch(/not a llama2\.c tokenizer\.bin: 8 bytes are left after the 512 tokens/);
    for (const [checkpointBase64, tokenizerBase64] of [
      ['', b64(t)],
      [b64(c), ''],
      ['not base64!', b64(t)],
      ['A'.repeat(MAX_LLAMA2C_CHECKPOINT_BASE64_LENGTH + 4), b64(t)],
      [b64(c), 'A'.repeat(MAX_LLAMA2C_TOKENIZER_BASE64_LENGTH + 4)],
    ] as const) {
      await refused({ name: 'x.bin', checkpointBase64, tokenizerBase64 });
    }
    expect((await svc.dispatch('models.import', { ...llama2c({ name: 'x.bin', checkpointBase64: b64(c), tokenizerBase64: b64(t) }), path: '/etc' })).ok).toBe(false);
    expect((await svc.call('models.list', {})).imported).toEqual([]);
    expect(importedFiles()).toEqual([]);
  });

  it('names the converted model after the checkpoint', () => {
    expect(convertedName('C:\\ckpt\\stories15M.bin')).toBe('stories15M.onnx');
    expect(convertedName('model')).toBe('model.onnx');
    expect(convertedName('m.onnx')).toBe('m.onnx');
    expect(convertedName('.bin')).toBe('model.onnx');
  });

  it('lets the web host carry a conversion of the largest allowed files', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBeGreaterThan(MAX_LLAMA2C_CHECKPOINT_BASE64_LENGTH + MAX_LLAMA2C_TOKENIZER_BASE64_LENGTH + 1024);
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBeGreaterThan(MAX_IMPORT_REQUEST_BASE64_LENGTH + 1024);
  });
});

describe('service: models.import with the hf-folder importer', () => {
  const spam = (file: string): Uint8Array => new Uint8Array(readFileSync(join(BUILTIN_MODELS_DIR, 'spam-encoder', file)));
  const json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');
  const config = { architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 0: 'ham', 1: 'spam' }, num_attention_heads: 4, hidden_size: 128, num_hidden_layers: 4 };

  async function refused(files: Record<string, string>): Promise<string> {
    const r = await svc.dispatch('models.import', { importer: 'hf-folder', name: 'folder', files });
    expect(r.ok).toBe(false);
    if (r.ok) return '';
    expect(r.error.code).toBe('invalid-argument');
    expect((await svc.call('models.list', {})).imported).toEqual([]);
    expect(importedFiles()).toEqual([]);
    return r.error.message;
  }

  it('imports the folder files by role and lists the model with its task, labels, heads, layers, tokenizer and blocks', async () => {
    const { id } = await svc.call('models.import', {
      importer: 'hf-folder',
      name: 'spam-bert',
      files: { model: b64(spam('model.onnx')), config: json(config), tokenizer: b64(spam('tokenizer.json')), specialTokens: json({ cls_token: '[CLS]' }) },
    });
    const [m] = (await svc.call('models.list', {})).imported;
    expect(m).toEqual(
      expect.objectContaining({
        id,
        name: 'spam-bert',
        source: 'upload',
        task: { kind: 'classifier', labels: ['ham', 'spam'], output: 'logits' },
        labels: ['ham', 'spam'],
        heads: 4,
        layers: 4,
        hidden: 128,
        hasTokenizer: true,
        attentionBlocks: 4,
      }),
    );
    expect(svc.store.models.details(id)?.files.specialTokens).toBe(JSON.stringify({ cls_token: '[CLS]' }));
    expect((await svc.call('models.inspect', { id })).blocks).toHaveLength(4);
    // the same model through the onnx importer is the same record; its folder files stay
    expect(await svc.call('models.import', { importer: 'onnx', name: 'model.onnx', files: { model: b64(spam('model.onnx')) } })).toEqual({ id });
    expect((await svc.call('models.list', {})).imported[0]).toMatchObject({ hasTokenizer: true, labels: ['ham', 'spam'] });
  });

  it('records what was found with models of the other importers too: blocks, inputs, next-token for a conversion', async () => {
    const model = buildTestModel('unfused-div-add');
    await svc.call('models.import', { importer: 'onnx', name: 'tiny.onnx', files: { model: b64(model.bytes) } });
    const ckpt = new Uint8Array(readFileSync(join(MIRROR, 'stories260K', 'stories260K.bin')));
    const tok = new Uint8Array(readFileSync(join(MIRROR, 'stories260K', 'tok512.bin')));
    await svc.call('models.import', { importer: 'llama2c', name: 'stories260K.bin', files: { checkpoint: b64(ckpt), tokenizer: b64(tok) } });
    const [converted, tiny] = (await svc.call('models.list', {})).imported;
    expect(converted).toMatchObject({ name: 'stories260K.onnx', task: { kind: 'next-token', output: 'logits' }, attentionBlocks: 5, hasTokenizer: false });
    expect(converted?.inputs?.map((i) => i.role)).toContain('input_ids');
    expect(tiny).toMatchObject({ name: 'tiny.onnx', attentionBlocks: 2, hasTokenizer: false });
    expect(tiny?.task).toBeUndefined();
    expect(tiny?.inputs?.every((i) => i.role === null)).toBe(true);
  });

  it('inlines the one external data file sent with the model', async () => {
    const { onnx } = pkg;
    const proto = onnx.ModelProto.decode(buildTestModel('unfused-div-add').bytes);
    const init = proto.graph?.initializer?.find((t) => (t.rawData?.length ?? 0) > 0);
    if (init === undefined || init.rawData === null || init.rawData === undefined) throw new Error('test model has no raw initializer');
    const data = init.rawData.slice();
    init.rawData = new Uint8Array();
    init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    init.externalData = [{ key: 'location', value: 'model.onnx_data' }];
    const model = onnx.ModelProto.encode(proto).finish();
    expect(await refused({ model: b64(model) })).toBe('folder was not imported: model.onnx keeps its weights in model.onnx_data, which was not sent with it');
    const { id } = await svc.call('models.import', { importer: 'hf-folder', name: 'external', files: { model: b64(model), modelData: b64(data) } });
    expect((await svc.call('models.inspect', { id })).blocks).toHaveLength(2);
    expect(await svc.call('models.import', { importer: 'onnx', name: 'inside.onnx', files: { model: b64(buildTestModel('unfused-div-add').bytes) } })).toEqual({ id });
  });

  it('refuses a broken config.json or tokenizer.json, an unused data file and an over-large request, storing nothing', async () => {
    const model = b64(spam('model.onnx'));
    expect(await refused({ model, config: b64(new TextEncoder().encode('{"architectures": [')) })).toMatch(/^folder was not imported: config\.json is not valid JSON/);
    expect(await refused({ model, config: json({ ...config, hidden_size: -1 }) })).toMatch(/^folder was not imported: config\.json is not valid: hidden_size: /);
    expect(await refused({ model, tokenizer: json({ model: { vocab: 'none' } }) })).toMatch(/^folder was not imported: tokenizer\.json: not a valid tokenizer\.json/);
    expect(await refused({ model, tokenizerConfig: json(['x']) })).toMatch(/tokenizer_config\.json must be a JSON object/);
    expect(await refused({ model, modelData: 'AAAA' })).toMatch(/an external data file was sent, but the model keeps all its weights inside/);
    expect(await refused({ model: b64(new TextEncoder().encode('not a model')) })).toMatch(/^folder was not imported: model\.onnx is not an ONNX model/);
    const big = 'A'.repeat(MAX_MODEL_IMPORT_BASE64_LENGTH - 8);
    expect(await refused({ model: big, tokenizer: 'A'.repeat(1024) })).toMatch(/files together are larger than the limit of 64 MiB/);
  });
});

describe('service: models.fetch', () => {
  it('lists the catalog', async () => {
    const { catalog } = await svc.call('models.list', {});
    expect(catalog.map((c) => c.name)).toContain('stories260K');
    expect(catalog.find((c) => c.name === 'stories260K')).toMatchObject({ verified: true, cached: false, fetching: false, sizeBytes: 1_056_540 + 6_227 });
  });

  it('fetches stories260K from the mirror with progress, converts it and imports it (5 blocks, 8 heads, 4 kv heads)', async () => {
    const fetched = waitForFetched('stories260K');
    expect(await svc.call('models.fetch', { name: 'stories260K' })).toEqual({ name: 'stories260K' });
    expect((await svc.call('models.list', {})).catalog.find((c) => c.name === 'stories260K')?.fetching).toBe(true);
    const again = await svc.dispatch('models.fetch', { name: 'stories260K' });
    expect(again.ok ? null : again.error.code).toBe('conflict');
    const done = await fetched;
    expect(done.error).toBeNull();
    expect(done.modelId).not.toBeNull();

    const progress = events.filter((e) => e.event === 'model.progress').map((e) => e.payload as ModelProgress);
    const download = progress.filter((p) => p.stage === 'download');
    expect(download.length).toBeGreaterThan(0);
    expect(new Set(download.map((p) => p.file))).toEqual(new Set(['stories260K.bin', 'tok512.bin']));
    const last = download.filter((p) => p.file === 'stories260K.bin').at(-1)!;
    expect(last.receivedBytes).toBe(1_056_540);
    expect(last.totalBytes).toBe(1_056_540);
    expect(progress.some((p) => p.stage === 'convert')).toBe(true);

    const list = await svc.call('models.list', {});
    expect(list.catalog.find((c) => c.name === 'stories260K')).toMatchObject({ cached: true, fetching: false });
    expect(list.imported).toEqual([expect.objectContaining({ id: done.modelId, name: 'stories260K.onnx', source: 'catalog' })]);
    const inspection = await svc.call('models.inspect', { id: done.modelId! });
    expect(inspection.blocks).toHaveLength(5);
    for (const b of inspection.blocks) expect(b).toMatchObject({ heads: 8, kvHeads: 4, headSize: 8, causal: true, rope: true });
  });

  it('refuses unknown and unverified entries', async () => {
    const unknown = await svc.dispatch('models.fetch', { name: 'nope' });
    expect(unknown.ok ? null : unknown.error.code).toBe('not-found');
    const unverified = await svc.dispatch('models.fetch', { name: 'stories15M' });
    expect(unverified.ok ? null : unverified.error.message).toMatch(/not verified/);
    expect(events.filter((e) => e.event === 'model.fetched')).toEqual([]);
  });

  it('reports a failed fetch in model.fetched (a mirror without the files)', async () => {
    await svc.close();
    svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath, modelMirror: join(dir, 'empty-mirror') });
    const fetched = waitForFetched('stories260K');
    await svc.call('models.fetch', { name: 'stories260K' });
    const done = await fetched;
    expect(done.modelId).toBeNull();
    expect(done.error).toMatch(/stories260K/);
    expect((await svc.call('models.list', {})).imported).toEqual([]);
  });
});

describe('service: models.importLocal (the desktop app picks a folder itself)', () => {
  it('imports the folder its picker chose from disk, reports a cancelled dialog, and is refused without a picker', async () => {
    const picked: ('folder' | 'file' | null)[] = [];
    let next: string | null = join(REPO_ROOT, 'test', 'fixtures', 'hf', 'bert-tiny');
    const local = await createService({
      dbPath: join(dir, 'local.sqlite'),
      host: 'test',
      workerPath,
      pickLocalModel: async (pick) => {
        picked.push(pick);
        return next;
      },
    });
    try {
      expect((await local.call('system.info', {})).localImport).toBe(true);
      const first = await local.call('models.importLocal', {});
      expect(first).toMatchObject({ name: 'bert-tiny', cancelled: false, added: true });
      const listed = (await local.call('models.list', {})).imported;
      expect(listed).toEqual([expect.objectContaining({ id: first.id, name: 'bert-tiny', task: { kind: 'classifier', labels: ['NEGATIVE', 'POSITIVE'], output: 'logits' }, attentionBlocks: 2 })]);
      expect(await local.call('models.importLocal', { pick: 'folder' })).toMatchObject({ id: first.id, added: false });
      next = null;
      expect(await local.call('models.importLocal', { pick: 'file' })).toEqual({ id: null, name: null, cancelled: true, added: false });
      expect(picked).toEqual(['folder', 'folder', 'file']);
    } finally {
      await local.close();
    }
    expect((await svc.call('system.info', {})).localImport).toBe(false);
    const refused = await svc.dispatch('models.importLocal', {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toEqual({ code: 'invalid-argument', message: expect.stringMatching(/only the desktop app can/) });
  });
});
