import { describe, expect, it } from 'vitest';
import { ExperimentSpec } from '../../../common/experiments/registry';
import { formSpec } from '../shared/formTestSupport';
import { faithfulnessForm } from './form';

describe('faithfulness form', () => {
  it('builds a faithfulness spec with the chosen methods and settings', () => {
    const { spec, errors } = formSpec('faithfulness', faithfulnessForm, (f) => {
      f.limit = '2';
      f.methods.rollout = true;
      f.igSteps = '2';
      f.permutations = '10';
      f.adversarialEpsilon = '0.01';
      f.variants.sliding = true;
      f.variants.windows = '8';
    });
    expect(errors).toEqual([]);
    expect(spec).toEqual({
      kind: 'faithfulness',
      name: 'faithfulness',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 2,
      methods: ['attention', 'rollout', 'loo', 'grad_input', 'ig'],
      igSteps: 2,
      permutations: 10,
      adversarialEpsilon: 0.01,
      uniform: true,
      headAblation: true,
      variants: ['sliding'],
      windows: [8],
      batch: 64,
    });
    expect(ExperimentSpec.safeParse(spec).success).toBe(true);
  });
  it('collects field errors', () => {
    const { errors } = formSpec('faithfulness', faithfulnessForm, (f) => {
      for (const m of Object.keys(f.methods) as (keyof typeof f.methods)[]) f.methods[m] = false;
      f.adversarialEpsilon = '2';
      f.limit = '0';
    });
    expect(errors).toEqual(['Methods: choose at least one', 'Limit: 0 is below the minimum 1', 'Adversarial ε: 2 is above the maximum 1']);
  });
  it('explains an imported classifier, language model or embedding model', () => {
    const typed = (model: string) =>
      formSpec('faithfulness', faithfulnessForm, (f) => {
        f.model = model;
        f.data.source = 'texts';
        f.data.typed = 'neg\ta dull film';
      });
    const bert = typed('imported:3');
    expect(bert.errors).toEqual([]);
    expect(bert.spec).toMatchObject({ model: 'imported:3', data: { source: 'texts', texts: [{ text: 'a dull film', label: 0 }] } });
    expect(ExperimentSpec.safeParse(bert.spec).success).toBe(true);
    // the runner explains the cosine to the example's own embedding
    expect(typed('imported:5').errors).toEqual([]);
  });
  it('explains an image model on uploaded pictures, without the gradient methods', () => {
    const pictures = { pictures: [{ name: 'a.png', path: 'a.png', dataBase64: 'iVBORw==' }], labelsCsv: { name: 'labels.csv', content: 'file,label\nimages/a.png,green\n' } };
    const vit = (gradients: boolean) =>
      formSpec('faithfulness', faithfulnessForm, (f) => {
        f.model = 'imported:6';
        f.data.source = 'pictures';
        f.data.pictures = pictures;
        f.limit = '';
        f.methods.grad_input = gradients;
        f.methods.ig = gradients;
      });
    const ok = vit(false);
    expect(ok.errors).toEqual([]);
    expect(ok.spec).toMatchObject({ model: 'imported:6', data: { source: 'images', images: [{ name: 'a.png', dataBase64: 'iVBORw==', label: 1 }] }, methods: ['attention', 'rollout', 'loo'] });
    expect(vit(true).errors).toEqual(['Methods: gradient × input and integrated gradients do not apply to image models; uncheck them']);
  });
});
