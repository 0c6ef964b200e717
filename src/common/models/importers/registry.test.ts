import { describe, expect, it } from 'vitest';
import { IMPORTERS, MAX_IMPORT_REQUEST_BASE64_LENGTH, MAX_MODEL_IMPORT_BYTES, ModelImportRequest, base64Length, importerIds } from './registry';

describe('model importer registry', () => {
  it('lists every importer with its files and limits', () => {
    expect(importerIds).toEqual(['onnx', 'llama2c', 'hf-folder']);
    expect(Object.keys(IMPORTERS['hf-folder'].files)).toEqual(['model', 'modelData', 'config', 'tokenizer', 'tokenizerConfig', 'specialTokens', 'preprocessor']);
    expect(Object.keys(IMPORTERS.llama2c.files)).toEqual(['checkpoint', 'tokenizer']);
    // the llama2c files together fit the ONNX import limit, so either request fits one message
    expect(IMPORTERS.llama2c.files.checkpoint.maxBytes + IMPORTERS.llama2c.files.tokenizer.maxBytes).toBe(MAX_MODEL_IMPORT_BYTES);
    expect(base64Length(3)).toBe(4);
    expect(base64Length(4)).toBe(8);
    expect(base64Length(60 * 1024 * 1024) + base64Length(4 * 1024 * 1024)).toBe(base64Length(MAX_MODEL_IMPORT_BYTES));
    // the largest request: an hf-folder import's files together up to the import limit, each with its padding
    expect(MAX_IMPORT_REQUEST_BASE64_LENGTH).toBe(base64Length(MAX_MODEL_IMPORT_BYTES) + 4 * 7);
  });

  it('accepts a request with exactly its importer\'s files', () => {
    expect(ModelImportRequest.safeParse({ importer: 'onnx', name: 'm.onnx', files: { model: 'AAAA' } }).success).toBe(true);
    expect(ModelImportRequest.safeParse({ importer: 'llama2c', name: 'c.bin', files: { checkpoint: 'AAAA', tokenizer: 'AAAA' } }).success).toBe(true);
  });

  it('lets an hf-folder request leave out its optional files, and keeps its files together within the import limit', () => {
    expect(ModelImportRequest.safeParse({ importer: 'hf-folder', name: 'bert', files: { model: 'AAAA' } }).success).toBe(true);
    expect(ModelImportRequest.safeParse({ importer: 'hf-folder', name: 'bert', files: { model: 'AAAA', config: 'e30=', tokenizer: 'e30=', modelData: 'AAAA' } }).success).toBe(true);
    const noModel = ModelImportRequest.safeParse({ importer: 'hf-folder', name: 'bert', files: { config: 'e30=' } });
    expect(noModel.success).toBe(false);
    expect(noModel.error?.issues.map((i) => i.path.join('.'))).toContain('files.model');
    expect(ModelImportRequest.safeParse({ importer: 'hf-folder', name: 'bert', files: { model: 'AAAA', vocab: 'AAAA' } }).success).toBe(false);
    const half = 'A'.repeat(base64Length(MAX_MODEL_IMPORT_BYTES / 2) + 4);
    const tooBig = ModelImportRequest.safeParse({ importer: 'hf-folder', name: 'bert', files: { model: half, modelData: half } });
    expect(tooBig.success).toBe(false);
    expect(tooBig.error?.issues.map((i) => i.message)).toContain('the files together are larger than the limit of 64 MiB');
    expect(IMPORTERS['hf-folder'].files.tokenizer.optional).toBe(true);
    expect('optional' in IMPORTERS['hf-folder'].files.model).toBe(false);
  });

  it('refuses a missing, extra or empty file, bad base64, an unknown importer and an extra field, naming the problem', () => {
    const issue = (v: unknown): string => {
      const r = ModelImportRequest.safeParse(v);
      expect(r.success).toBe(false);
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(issue({ importer: 'llama2c', name: 'c.bin', files: { checkpoint: 'AAAA' } })).toMatch(/files\.tokenizer/);
    expect(issue({ importer: 'onnx', name: 'm.onnx', files: { model: 'AAAA', tokenizer: 'AAAA' } })).toMatch(/tokenizer/);
    expect(issue({ importer: 'llama2c', name: 'c.bin', files: { checkpoint: '', tokenizer: 'AAAA' } })).toMatch(/the checkpoint is empty/);
    expect(issue({ importer: 'onnx', name: 'm.onnx', files: { model: 'not base64!' } })).toMatch(/must be base64/);
    expect(issue({ importer: 'onnx', name: 'm.onnx', files: { model: 'A'.repeat(base64Length(MAX_MODEL_IMPORT_BYTES) + 4) } })).toMatch(/larger than the limit of 64 MiB/);
    expect(issue({ importer: 'pytorch', name: 'm', files: {} })).toMatch(/importer/);
    expect(issue({ importer: 'onnx', name: 'm.onnx', files: { model: 'AAAA' }, path: '/etc' })).toMatch(/path|Unrecognized/i);
    expect(issue({ importer: 'onnx', name: '', files: { model: 'AAAA' } })).toMatch(/name/);
  });
});
