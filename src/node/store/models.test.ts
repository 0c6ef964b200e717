import { describe, expect, it } from 'vitest';
import { expectStoreError, useStoreSandbox } from './storeTestSupport';

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('store: imported models', () => {
  const sha = (c: string): string => c.repeat(64);

  it('records, lists (newest first), gets and deletes models; one row per sha256', () => {
    let t = 1000;
    const store = openStore(undefined, { now: () => (t += 10) });
    const a = store.models.add({ name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' });
    const b = store.models.add({ name: 'b.onnx', sha256: sha('b'), bytes: 20, path: '/x/b.onnx', source: 'catalog' });
    const c = store.models.add({ name: 'c.onnx', sha256: sha('c'), bytes: 30, path: '/x/c.onnx', source: 'convert' });
    expect(a.added && b.added && c.added).toBe(true);
    expect(store.models.add({ name: 'again.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' })).toEqual({ id: a.id, added: false });
    expect(store.models.list().map((m) => [m.name, m.source])).toEqual([
      ['c.onnx', 'convert'],
      ['b.onnx', 'catalog'],
      ['a.onnx', 'upload'],
    ]);
    expect(store.models.get(a.id)).toMatchObject({ id: a.id, name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' });
    expect(store.models.delete(a.id)).toBe(true);
    expect(store.models.delete(a.id)).toBe(false);
    expect(store.models.get(a.id)).toBeUndefined();
  });

  it('refuses invalid model records', () => {
    const store = openStore();
    const ok = { name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' as const };
    expectStoreError(() => store.models.add({ ...ok, sha256: 'xyz' }), 'invalid-argument');
    expectStoreError(() => store.models.add({ ...ok, name: '' }), 'invalid-argument');
    expectStoreError(() => store.models.add({ ...ok, bytes: 0 }), 'invalid-argument');
    expectStoreError(() => store.models.add({ ...ok, source: 'disk' as 'upload' }), 'invalid-argument');
    expect(store.models.list()).toEqual([]);
  });

  it('keeps what was found with a model and its folder files; replaces them on request; deletes them with the model', () => {
    const store = openStore();
    const { id } = store.models.add({ name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' });
    const other = store.models.add({ name: 'b.onnx', sha256: sha('b'), bytes: 10, path: '/x/b.onnx', source: 'upload' }).id;
    expect(store.models.details(id)).toBeUndefined();
    store.models.setDetails(id, {
      attentionBlocks: 4,
      inputsJson: '[{"name":"input_ids","role":"input_ids"}]',
      taskJson: '{"kind":"classifier","labels":["ham","spam"],"output":"logits"}',
      files: { config: '{"model_type":"bert"}', tokenizer: '{"model":{"vocab":{}}}' },
    });
    store.models.setDetails(other, { attentionBlocks: 0, inputsJson: '[]', taskJson: null, files: {} });
    expect(store.models.details(id)).toEqual({
      modelId: id,
      attentionBlocks: 4,
      inputsJson: '[{"name":"input_ids","role":"input_ids"}]',
      taskJson: '{"kind":"classifier","labels":["ham","spam"],"output":"logits"}',
      configJson: '{"model_type":"bert"}',
      hasTokenizer: true,
      files: { config: '{"model_type":"bert"}', tokenizer: '{"model":{"vocab":{}}}' },
    });
    const summaries = store.models.detailsSummaries();
    expect(summaries.get(id)).toMatchObject({ attentionBlocks: 4, hasTokenizer: true, configJson: '{"model_type":"bert"}' });
    expect(summaries.get(other)).toMatchObject({ attentionBlocks: 0, hasTokenizer: false, configJson: null, taskJson: null });

    store.models.setDetails(id, { attentionBlocks: 4, inputsJson: '[]', taskJson: null, files: { preprocessor: '{}' } });
    expect(store.models.details(id)).toMatchObject({ taskJson: null, configJson: null, hasTokenizer: false, files: { preprocessor: '{}' } });

    expectStoreError(() => store.models.setDetails(id, { attentionBlocks: -1, inputsJson: '[]', taskJson: null, files: {} }), 'invalid-argument');
    expectStoreError(() => store.models.setDetails(id, { attentionBlocks: 1, inputsJson: '{}', taskJson: null, files: {} }), 'invalid-argument');
    expectStoreError(() => store.models.setDetails(id, { attentionBlocks: 1, inputsJson: '[]', taskJson: '[]', files: {} }), 'invalid-argument');
    expectStoreError(() => store.models.setDetails(id, { attentionBlocks: 1, inputsJson: '[]', taskJson: null, files: { config: '{oops' } }), 'invalid-argument');
    expect(store.models.delete(id)).toBe(true);
    expect(store.models.details(id)).toBeUndefined();
    expect(store.models.detailsSummaries().has(id)).toBe(false);
  });
});
