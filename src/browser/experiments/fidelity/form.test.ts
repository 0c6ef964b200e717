import { describe, expect, it } from 'vitest';
import { formSpec } from '../shared/formTestSupport';
import { fidelityForm } from './form';

describe('fidelity form', () => {
  it('builds a fidelity spec on the built-in data with optional fields left out', () => {
    const { spec, errors } = formSpec('fidelity', fidelityForm, (f) => {
      f.limit = '24';
      f.variants.windows = '4, 64';
      f.variants.linear = true;
      f.layers = '0, 3';
    });
    expect(errors).toEqual([]);
    expect(spec).toEqual({
      kind: 'fidelity',
      name: 'fidelity',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 24,
      variants: ['sliding', { variant: { kind: 'linear' } }],
      windows: [4, 64],
      layers: [0, 3],
      batch: 16,
      continuationTokens: 0,
    });
  });
  it('sends typed texts and uploaded files as inline texts', () => {
    const typed = formSpec('fidelity', fidelityForm, (f) => {
      f.data.source = 'texts';
      f.data.typed = 'spam\tbuy now\nhello';
    });
    expect(typed.errors).toEqual([]);
    expect(typed.spec).toMatchObject({ data: { source: 'texts', texts: [{ text: 'buy now', label: 1 }, { text: 'hello' }] } });
    const file = formSpec('fidelity', fidelityForm, (f) => {
      f.data.source = 'file';
      f.data.file = { name: 'd.csv', texts: [{ text: 'a', label: 0 }] };
    });
    expect(file.errors).toEqual([]);
    expect(file.spec).toMatchObject({ data: { source: 'texts', texts: [{ text: 'a', label: 0 }] } });
    expect(JSON.stringify(file.spec)).not.toContain('d.csv');
  });
  it('explains missing data', () => {
    expect(formSpec('fidelity', fidelityForm, (f) => (f.data.source = 'file')).errors).toEqual(['Data: choose a JSONL or CSV file']);
    expect(formSpec('fidelity', fidelityForm, (f) => (f.data.source = 'texts')).errors).toEqual(['Data: type at least one text (one per line)']);
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = 'stories260K')).errors[0]).toMatch(/built-in test subset belongs to the built-in models \(spam-encoder\)/);
    // before models.list has answered there is no model to run
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = '')).errors[0]).toMatch(/^Model: choose a model/);
  });
  it('runs an imported model (imported:<id>) on typed texts labelled with its class names; refuses one it cannot run', () => {
    const { spec, errors } = formSpec('fidelity', fidelityForm, (f) => {
      f.model = 'imported:3';
      f.data.source = 'texts';
      f.data.typed = 'pos\tgood film\nneg\tbad film';
    });
    expect(errors).toEqual([]);
    expect(spec).toMatchObject({ model: 'imported:3', data: { source: 'texts', texts: [{ text: 'good film', label: 1 }, { text: 'bad film', label: 0 }] } });
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = 'imported:5')).errors.filter((e) => e.startsWith('Model'))).toEqual([]);
    const vit = formSpec('fidelity', fidelityForm, (f) => {
      f.model = 'imported:6';
      f.data.source = 'texts';
      f.data.typed = 'x';
    });
    expect(vit.errors).toEqual(['Model: imported:6 (vit-tiny) cannot run from this form: an image model runs on pictures, which this form cannot send: run it with a spec whose data names a folder of pictures (attn run)']);
    // the built-in test subset is not an imported model's
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = 'imported:3')).errors[0]).toMatch(/built-in test subset belongs to the built-in models/);
  });
  it('needs a variant other than exact for fidelity', () => {
    expect(formSpec('fidelity', fidelityForm, (f) => (f.variants.sliding = false)).errors).toEqual(['Variants: choose at least one (exact is always run as the reference)']);
  });
});
