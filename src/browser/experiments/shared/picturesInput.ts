/**
 * The "pictures" data of the New experiment form (image models): a file input (several PNG/JPEG
 * files, and a labels.csv with them) and a folder input, read here (sizes checked first) into the
 * form's picture set; the status line says how many pictures and labels were read.
 */
import { MAX_INLINE_IMAGES, MAX_INLINE_IMAGES_TOTAL_BYTES, MAX_INLINE_IMAGE_BYTES } from '../../../common/experiments/shared/dataSource';
import { h } from '../../dom';
import { errorMessage } from '../../format';
import type { FormEnv } from './kind';
import { labelNamesOf } from './modelChoices';
import type { ModelDataForm } from './modelData';
import type { PictureFile, PictureSet } from './dataPictures';
import { baseName, bytesToBase64, choosePictureFiles, picturesStatus } from './dataPictures';

/** The status line of the form's pictures: what was read, or why they cannot be used. */
export function picturesStatusOf(f: ModelDataForm, env: FormEnv): string {
  const d = f.data;
  if (d.picturesError !== null) return d.picturesError;
  if (d.pictures === null) return 'No pictures chosen.';
  return picturesStatus(d.pictures, labelNamesOf(env.models(), f.model));
}

const MIB = 1024 * 1024;

interface Chosen {
  readonly file: File;
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

async function readSet(pictures: readonly Chosen[], labelsCsv: Chosen | undefined): Promise<PictureSet> {
  const read: PictureFile[] = [];
  for (const p of pictures) read.push({ name: p.name, path: p.path, dataBase64: bytesToBase64(new Uint8Array(await p.file.arrayBuffer())) });
  return { pictures: read, labelsCsv: labelsCsv === undefined ? null : { name: labelsCsv.path, content: await labelsCsv.file.text() } };
}

/** Reads the chosen files into the form (a later choice replaces an earlier one; a read overtaken by a newer choice is dropped). */
function readChosen(files: readonly File[], f: ModelDataForm, env: FormEnv, status: HTMLElement, generation: () => number): void {
  const d = f.data;
  const mine = generation();
  const done = (): void => {
    status.textContent = picturesStatusOf(f, env);
    env.changed();
  };
  let chosen: { pictures: Chosen[]; labelsCsv: Chosen | undefined };
  try {
    chosen = choosePictureFiles(files.map((file) => ({ file, name: baseName(file.name), path: file.webkitRelativePath || file.name, size: file.size })));
  } catch (e) {
    d.pictures = null;
    d.picturesError = errorMessage(e);
    done();
    return;
  }
  status.textContent = `Reading ${chosen.pictures.length} picture${chosen.pictures.length === 1 ? '' : 's'}…`;
  readSet(chosen.pictures, chosen.labelsCsv).then(
    (set) => {
      if (env.disposed() || mine !== generation()) return;
      d.pictures = set;
      d.picturesError = null;
      done();
    },
    (e: unknown) => {
      if (mine !== generation()) return;
      d.pictures = null;
      d.picturesError = `the pictures could not be read: ${errorMessage(e)}`;
      done();
    },
  );
}

export function picturesUpload(f: ModelDataForm, env: FormEnv): HTMLElement[] {
  const files = h('input', { type: 'file', multiple: true, accept: 'image/png,image/jpeg,.csv,text/csv', 'data-testid': 'exp-data-pictures', 'aria-label': 'Picture files' });
  const folder = h('input', { type: 'file', webkitdirectory: true, 'data-testid': 'exp-data-picture-folder', 'aria-label': 'Picture folder' });
  const status = h('span', { class: 'muted small', 'data-testid': 'exp-data-pictures-status', 'aria-live': 'polite' }, picturesStatusOf(f, env));
  let generation = 0;
  for (const input of [files, folder]) {
    input.addEventListener('change', () => {
      generation += 1;
      const chosen = Array.from(input.files ?? []);
      if (chosen.length > 0) readChosen(chosen, f, env, status, () => generation);
    });
  }
  return [
    h('div', { class: 'form-field' }, h('span', { class: 'form-label' }, 'Picture files'), files),
    h('div', { class: 'form-field' }, h('span', { class: 'form-label' }, 'or a folder'), folder, status),
    h(
      'p',
      { class: 'form-hint' },
      `PNG or JPEG pictures, read here and sent with the spec (at most ${MAX_INLINE_IMAGES}, ${MAX_INLINE_IMAGE_BYTES / MIB} MiB each, ${MAX_INLINE_IMAGES_TOTAL_BYTES / MIB} MiB together). A labels.csv among them (file,label; labels as class indices or the model's class names) labels them by file name.`,
    ),
  ];
}
