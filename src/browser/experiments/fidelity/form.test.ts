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
    // an image model takes pictures only
    const vit = formSpec('fidelity', fidelityForm, (f) => {
      f.model = 'imported:6';
      f.data.source = 'texts';
      f.data.typed = 'x';
    });
    expect(vit.errors).toEqual(['Data: imported:6 (vit-tiny) is an image model: choose pictures']);
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = 'imported:8')).errors[0]).toMatch(/^Model: imported:8 \(no-tokenizer\) cannot run from this form: it has no tokenizer\.json/);
    // the built-in test subset is not an imported model's
    expect(formSpec('fidelity', fidelityForm, (f) => (f.model = 'imported:3')).errors[0]).toMatch(/built-in test subset belongs to the built-in models/);
  });
  it('runs an image model on pictures read in the browser, labelled by labels.csv (indices or class names, matched by file name)', () => {
    const pictures = {
      pictures: [
        { name: 'blue_disc.png', path: 'images/blue_disc.png', dataBase64: 'AAAA' },
        { name: 'red_square.png', path: 'images/red_square.png', dataBase64: 'AAE=' },
        { name: 'other.jpg', path: 'images/other.jpg', dataBase64: 'AQID' },
      ],
      labelsCsv: { name: 'images/labels.csv', content: 'file,label\nimages/red_square.png,red\nimages/blue_disc.png,2\n' },
    };
    const { spec, errors } = formSpec('fidelity', fidelityForm, (f) => {
      f.model = 'imported:6';
      f.data.source = 'pictures';
      f.data.pictures = pictures;
    });
    expect(errors).toEqual([]);
    expect(spec).toMatchObject({
      model: 'imported:6',
      data: { source: 'images', images: [{ name: 'blue_disc.png', dataBase64: 'AAAA', label: 2 }, { name: 'red_square.png', dataBase64: 'AAE=', label: 0 }, { name: 'other.jpg', dataBase64: 'AQID' }] },
    });
    expect(JSON.stringify(spec)).not.toContain('images/');
    // a label the model does not have, no pictures yet, a reading error, pictures for a text model
    const bad = formSpec('fidelity', fidelityForm, (f) => {
      f.model = 'imported:6';
      f.data.source = 'pictures';
      f.data.pictures = { ...pictures, labelsCsv: { name: 'labels.csv', content: 'file,label\nblue_disc.png,purple\n' } };
    });
    expect(bad.errors).toEqual(["Data: labels.csv: row 2: label 'purple' is not a class of the model (red, green, blue)"]);
    expect(formSpec('fidelity', fidelityForm, (f) => ((f.model = 'imported:6'), (f.data.source = 'pictures'))).errors).toEqual(['Data: choose PNG or JPEG pictures (files or a folder, optionally with a labels.csv)']);
    expect(formSpec('fidelity', fidelityForm, (f) => ((f.model = 'imported:6'), (f.data.source = 'pictures'), (f.data.picturesError = 'x.png is larger than 8 MiB'))).errors).toEqual(['Data: x.png is larger than 8 MiB']);
    expect(formSpec('fidelity', fidelityForm, (f) => ((f.data.source = 'pictures'), (f.data.pictures = pictures))).errors).toEqual(['Data: pictures are for image models; spam-encoder takes texts']);
  });
  it('needs a variant other than exact for fidelity', () => {
    expect(formSpec('fidelity', fidelityForm, (f) => (f.variants.sliding = false)).errors).toEqual(['Variants: choose at least one (exact is always run as the reference)']);
  });
});
