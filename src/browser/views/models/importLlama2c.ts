/** The llama2.c card of the Models page: a checkpoint and its tokenizer.bin, sent to the llama2c importer (converted to ONNX). */
import { IMPORTERS } from '../../../common/models/importers/registry';
import { fileToBase64 } from '../../base64';
import { button, h } from '../../dom';
import { formatBytes } from '../../modelFormat';
import type { ModelsPage } from './page';

const CHECKPOINT_MAX = IMPORTERS.llama2c.files.checkpoint.maxBytes;
const TOKENIZER_MAX = IMPORTERS.llama2c.files.tokenizer.maxBytes;
const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;

interface ConvertForm {
  readonly checkpointInput: HTMLInputElement;
  readonly tokenizerInput: HTMLInputElement;
  readonly status: HTMLElement;
  readonly button: HTMLButtonElement;
  converting: boolean;
}

function updateButton(f: ConvertForm): void {
  f.button.disabled = f.converting || !f.checkpointInput.files?.length || !f.tokenizerInput.files?.length;
}

/** A message when a file is over its limit, else null. */
function sizeProblem(checkpoint: File, tokenizer: File): string | null {
  if (checkpoint.size > CHECKPOINT_MAX) return `The checkpoint is ${formatBytes(checkpoint.size)}; the limit is ${mib(CHECKPOINT_MAX)} (convert bigger ones with \`attn convert\`).`;
  if (tokenizer.size > TOKENIZER_MAX) return `The tokenizer is ${formatBytes(tokenizer.size)}; the limit is ${mib(TOKENIZER_MAX)}.`;
  return null;
}

async function convert(page: ModelsPage, f: ConvertForm): Promise<void> {
  const checkpoint = f.checkpointInput.files?.[0];
  const tokenizer = f.tokenizerInput.files?.[0];
  if (!checkpoint || !tokenizer || f.converting) return;
  const { ctx } = page;
  const title = `Could not convert ${checkpoint.name}`;
  const problem = sizeProblem(checkpoint, tokenizer);
  if (problem !== null) {
    ctx.reportError(title, problem);
    return;
  }
  f.converting = true;
  updateButton(f);
  f.status.textContent = `Converting ${checkpoint.name}…`;
  try {
    const [checkpointBase64, tokenizerBase64] = await Promise.all([fileToBase64(checkpoint), fileToBase64(tokenizer)]);
    const { id } = await ctx.client.call('models.import', { importer: 'llama2c', name: checkpoint.name, files: { checkpoint: checkpointBase64, tokenizer: tokenizerBase64 } });
    if (page.disposed) return;
    f.status.textContent = `Converted ${checkpoint.name}.`;
    ctx.clearError();
    await page.refresh();
    page.select(id);
  } catch (e) {
    if (page.disposed) return;
    f.status.textContent = '';
    ctx.reportError(title, e);
  } finally {
    f.converting = false;
    if (!page.disposed) updateButton(f);
  }
}

export function importLlama2cCard(page: ModelsPage): HTMLElement {
  const f: ConvertForm = {
    checkpointInput: h('input', { type: 'file', accept: '.bin', id: 'llama2c-checkpoint-input', 'data-testid': 'llama2c-checkpoint-input' }),
    tokenizerInput: h('input', { type: 'file', accept: '.bin', id: 'llama2c-tokenizer-input', 'data-testid': 'llama2c-tokenizer-input' }),
    status: h('span', { class: 'muted small', 'data-testid': 'llama2c-convert-status' }),
    button: button('Convert', () => void convert(page, f), { class: 'btn btn-primary', 'data-testid': 'llama2c-convert', disabled: true }),
    converting: false,
  };
  f.checkpointInput.addEventListener('change', () => updateButton(f));
  f.tokenizerInput.addEventListener('change', () => updateButton(f));
  const form = h(
    'div',
    { class: 'model-convert', 'data-testid': 'llama2c-convert-form' },
    h(
      'p',
      { class: 'muted' },
      `A llama2.c checkpoint (legacy or version 1, float32, up to ${mib(CHECKPOINT_MAX)}) and its tokenizer.bin (up to ${mib(TOKENIZER_MAX)}) are converted to ONNX, tokenizer embedded, and added to the models.`,
    ),
    h('label', { class: 'field', for: 'llama2c-checkpoint-input' }, 'Checkpoint ', f.checkpointInput),
    ' ',
    h('label', { class: 'field', for: 'llama2c-tokenizer-input' }, 'Tokenizer ', f.tokenizerInput),
    ' ',
    f.button,
  );
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, 'Convert a llama2.c checkpoint'), f.status), form);
}
