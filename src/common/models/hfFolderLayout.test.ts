import { describe, expect, it } from 'vitest';
import { HfFolderError, chooseModelFile, modelCandidates, relativeToPickedFolder, safeRelativePath, selectHfFolderFiles } from './hfFolderLayout';
import { HfPreprocessorConfig } from './hfConfig';

describe('the Hugging Face folder layout', () => {
  it('chooses model.onnx, else onnx/model.onnx, else the only candidate, else the one asked for', () => {
    expect(chooseModelFile(['config.json', 'model.onnx', 'onnx/model.onnx'])).toBe('model.onnx');
    expect(chooseModelFile(['config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx'])).toBe('onnx/model.onnx');
    expect(chooseModelFile(['onnx/model_quantized.onnx', 'README.md'])).toBe('onnx/model_quantized.onnx');
    expect(chooseModelFile(['model.onnx', 'onnx/model_quantized.onnx'], 'onnx/model_quantized.onnx')).toBe('onnx/model_quantized.onnx');
    expect(chooseModelFile(['model.onnx', 'onnx/model_quantized.onnx'], './onnx//model_quantized.onnx')).toBe('onnx/model_quantized.onnx');
  });

  it('lists the candidates when several are there and none is chosen; says what was looked for when there is none', () => {
    expect(() => chooseModelFile(['onnx/model_fp16.onnx', 'onnx/model_int8.onnx', 'deep/inside/model.onnx'])).toThrow(
      'the folder has 2 ONNX models and none is model.onnx or onnx/model.onnx; choose one (--file): onnx/model_fp16.onnx, onnx/model_int8.onnx',
    );
    expect(() => chooseModelFile(['config.json'])).toThrow(HfFolderError);
    expect(() => chooseModelFile(['config.json'])).toThrow(/no ONNX model in the folder: looked for model\.onnx and onnx\/model\.onnx/);
    expect(() => chooseModelFile(['model.onnx'], 'onnx/model.onnx')).toThrow('the folder has no file onnx/model.onnx; its ONNX models are: model.onnx');
    expect(modelCandidates(['a.ONNX', 'onnx/b.onnx', 'onnx/x/c.onnx', 'd.onnx_data'])).toEqual(['a.ONNX', 'onnx/b.onnx']);
  });

  it('refuses paths that are absolute or leave the folder, and normalises the others', () => {
    expect(safeRelativePath('weights/../model.onnx_data', 'location')).toBe('model.onnx_data');
    expect(safeRelativePath('a\\b.bin', 'location')).toBe('a/b.bin');
    expect(() => safeRelativePath('../x', 'location')).toThrow('location "../x" leaves the model\'s folder; it must name a file inside it');
    expect(() => safeRelativePath('a/../../x', 'location')).toThrow(/leaves the model's folder/);
    expect(() => safeRelativePath('/etc/passwd', 'location')).toThrow(/is an absolute path/);
    expect(() => safeRelativePath('C:\\weights.bin', 'location')).toThrow(/is an absolute path/);
    expect(() => safeRelativePath('\\\\server\\share\\x', 'location')).toThrow(/is an absolute path/);
    expect(() => safeRelativePath('', 'location')).toThrow(/is not a file name/);
    expect(() => safeRelativePath('./', 'location')).toThrow(/is not a file name/);
    expect(() => safeRelativePath('a\u0000b', 'location')).toThrow(/is not a file name/);
  });

  it('selects what a picked folder sends: the model, its data file and the JSON files at the top', () => {
    const picked = relativeToPickedFolder(['distilbert/config.json', 'distilbert/tokenizer.json', 'distilbert/onnx/model.onnx', 'distilbert/onnx/model.onnx_data', 'distilbert/README.md']);
    expect(picked).toEqual({ folder: 'distilbert', paths: ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'README.md'] });
    expect(selectHfFolderFiles(picked.paths)).toEqual({ model: 'onnx/model.onnx', modelData: 'onnx/model.onnx_data', json: { config: 'config.json', tokenizer: 'tokenizer.json' } });
    // loose files: their names
    const loose = relativeToPickedFolder(['model.onnx', 'special_tokens_map.json', 'preprocessor_config.json', 'tokenizer_config.json']);
    expect(loose.folder).toBeNull();
    expect(selectHfFolderFiles(loose.paths)).toEqual({
      model: 'model.onnx',
      json: { tokenizerConfig: 'tokenizer_config.json', specialTokens: 'special_tokens_map.json', preprocessor: 'preprocessor_config.json' },
    });
    expect(selectHfFolderFiles(['onnx/model_q.onnx', 'onnx/model_q.onnx.data', 'model.onnx_data'], 'onnx/model_q.onnx')).toEqual({ model: 'onnx/model_q.onnx', modelData: 'onnx/model_q.onnx.data', json: {} });
    expect(relativeToPickedFolder(['a/x.json', 'b/model.onnx'])).toEqual({ folder: null, paths: ['x.json', 'model.onnx'] });
  });

  it('validates preprocessor_config.json', () => {
    expect(HfPreprocessorConfig.safeParse({ do_resize: true, size: { height: 224, width: 224 }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 2 }).success).toBe(true);
    expect(HfPreprocessorConfig.safeParse({ size: { shortest_edge: 224 } }).success).toBe(true);
    expect(HfPreprocessorConfig.safeParse({ size: 384, image_mean: 0.5 }).success).toBe(true);
    expect(HfPreprocessorConfig.safeParse({ do_resize: 'yes' }).success).toBe(false);
    expect(HfPreprocessorConfig.safeParse({ rescale_factor: -1 }).success).toBe(false);
    expect(HfPreprocessorConfig.safeParse({ image_mean: [] }).success).toBe(false);
  });
});
