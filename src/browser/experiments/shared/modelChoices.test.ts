import { describe, expect, it } from 'vitest';
import { TEST_MODELS } from './formTestSupport';
import { importedModelOf, labelNamesOf, modelOptions, modelProblem, notRunnable } from './modelChoices';
import { isImageModel } from './modelChoices';
import { builtinDataAllowed, dataChoiceAllowed } from './modelData';

describe('model choices', () => {
  it('lists the built-in, catalog and imported models (as imported:<id>, with their task); those a form cannot run are marked', () => {
    expect(modelOptions(TEST_MODELS, 'fidelity')).toEqual([
      { value: 'spam-encoder', label: 'spam-encoder (built-in: classification)' },
      { value: 'stories260K', label: 'stories260K (catalog, fetched on first use)' },
      { value: 'imported:3', label: 'imported:3 · my-bert (classifier: neg, pos)' },
      { value: 'imported:4', label: 'imported:4 · gpt2-tiny (next-token)' },
      { value: 'imported:5', label: 'imported:5 · encoder (embedding, mean pooling)' },
      { value: 'imported:6', label: 'imported:6 · vit-tiny (image classifier: red, green, blue)' },
      { value: 'imported:7', label: 'imported:7 · bare.onnx (task unknown) — not runnable here: task unknown' },
      { value: 'imported:8', label: 'imported:8 · no-tokenizer (classifier: a, b) — not runnable here: no tokenizer' },
    ]);
    // faithfulness runs the same models (embedding models: the cosine to the example's own embedding; image models: by occlusion)
    expect(modelOptions(TEST_MODELS, 'faithfulness')).toEqual(modelOptions(TEST_MODELS, 'fidelity'));
  });

  it('finds imported models by their spec name and reads their class names', () => {
    expect(importedModelOf(TEST_MODELS, 'imported:3')?.name).toBe('my-bert');
    expect(importedModelOf(TEST_MODELS, 'imported:99')).toBeUndefined();
    expect(importedModelOf(TEST_MODELS, 'my-bert')).toBeUndefined();
    expect(labelNamesOf(TEST_MODELS, 'imported:3')).toEqual(['neg', 'pos']);
    expect(labelNamesOf(TEST_MODELS, 'spam-encoder')).toEqual(['ham', 'spam']);
    expect(labelNamesOf(TEST_MODELS, 'imported:4')).toBeUndefined();
    // labels from the task where the list gives no labels field
    expect(labelNamesOf({ ...TEST_MODELS, imported: [{ id: 1, name: 'x', task: { kind: 'classifier', labels: ['u', 'v'], output: 'logits' }, hasTokenizer: true }] }, 'imported:1')).toEqual(['u', 'v']);
  });

  it('says why a model cannot run from the form', () => {
    const [bert, gpt2, encoder, vit, bare, noTok] = TEST_MODELS.imported;
    for (const m of [bert, gpt2, encoder, vit]) for (const kind of ['fidelity', 'faithfulness'] as const) expect(notRunnable(m!, kind)).toBeUndefined();
    expect(notRunnable(bare!, 'faithfulness')?.reason).toMatch(/task is unknown .*config\.json/);
    expect(notRunnable(noTok!, 'fidelity')?.reason).toMatch(/no tokenizer\.json/);
    expect(modelProblem(TEST_MODELS, 'imported:3', 'faithfulness')).toBeUndefined();
    expect(modelProblem(TEST_MODELS, 'spam-encoder', 'faithfulness')).toBeUndefined();
    expect(modelProblem(TEST_MODELS, 'imported:7', 'fidelity')).toBe('Model: imported:7 (bare.onnx) cannot run from this form: its task is unknown (it was imported without a config.json): run it with a spec that gives a "task" (attn run)');
    expect(modelProblem(TEST_MODELS, 'imported:42', 'fidelity')).toMatch(/^Model: imported:42 is not among the imported models \(imported:3, imported:4/);
  });

  it('allows the built-in test subset for built-in models only (and before the list has answered)', () => {
    expect(builtinDataAllowed(TEST_MODELS, 'spam-encoder')).toBe(true);
    expect(builtinDataAllowed(TEST_MODELS, 'imported:3')).toBe(false);
    expect(builtinDataAllowed(TEST_MODELS, 'stories260K')).toBe(false);
    expect(builtinDataAllowed({ builtin: [], catalog: [], imported: [] }, 'spam-encoder')).toBe(true);
  });

  it('offers pictures, and only pictures, to an image model', () => {
    expect(isImageModel(TEST_MODELS, 'imported:6')).toBe(true);
    expect(isImageModel(TEST_MODELS, 'imported:3')).toBe(false);
    expect(isImageModel(TEST_MODELS, 'spam-encoder')).toBe(false);
    const allowed = (model: string) => (['builtin', 'texts', 'file', 'pictures'] as const).filter((c) => dataChoiceAllowed(TEST_MODELS, model, c));
    expect(allowed('imported:6')).toEqual(['pictures']);
    expect(allowed('imported:3')).toEqual(['texts', 'file']);
    expect(allowed('spam-encoder')).toEqual(['builtin', 'texts', 'file']);
  });
});
