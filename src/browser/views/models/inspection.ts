/** The inspection card of the Models page: a model's interface and its attention blocks per layer. */
import type { AttentionBlockInfo, ModelInspectionInfo } from '../../../common/contract';
import { describeScale, formatScale, scaleSitesShort } from '../../../common/models/attentionScale';
import { clear, h } from '../../dom';
import { formatBytes, formatDims, shapeText } from '../../modelFormat';
import type { ModelsPage } from './page';

function yesNo(v: boolean | 'unknown'): string {
  return v === 'unknown' ? 'unknown' : v ? 'yes' : 'no';
}

function num(v: number | null): string {
  return v === null ? '?' : String(v);
}

function blockRow(b: AttentionBlockInfo): HTMLTableRowElement {
  const scaling = b.scale === null ? b.scaling : `${b.scaling} (×${b.scale.toPrecision(4)})`;
  return h(
    'tr',
    { 'data-testid': `model-block-${b.index}`, title: b.description },
    h('td', { class: 'num' }, String(b.index)),
    h('td', { class: 'mono' }, b.form),
    h('td', { class: 'num', 'data-field': 'heads' }, num(b.heads)),
    h('td', { class: 'num', 'data-field': 'kv-heads' }, num(b.kvHeads)),
    h('td', { class: 'num', 'data-field': 'head-size' }, num(b.headSize)),
    h('td', {}, yesNo(b.causal)),
    h('td', {}, scaling),
    h('td', {}, b.masking),
    h('td', {}, b.rope ? 'yes' : 'no'),
    h('td', { class: 'num', 'data-field': 'scale', title: describeScale(b.effectiveScale, b.scaleSites) }, formatScale(b.effectiveScale)),
    h('td', { 'data-field': 'scaled-on' }, scaleSitesShort(b.scaleSites)),
  );
}

function ioTable(title: string, values: ModelInspectionInfo['inputs'], testId: string): HTMLElement {
  return h(
    'div',
    { class: 'model-io' },
    h('h3', {}, title),
    h(
      'table',
      { class: 'table', 'data-testid': testId },
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Shape'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        values.length === 0
          ? h('tr', { class: 'empty-row' }, h('td', { colspan: 3 }, 'none'))
          : values.map((v) => h('tr', {}, h('td', { class: 'mono' }, v.name), h('td', {}, v.dtype), h('td', { class: 'mono' }, formatDims(v.dims)))),
      ),
    ),
  );
}

export function renderInspection(i: ModelInspectionInfo): HTMLElement {
  const blocks =
    i.blocks.length === 0
      ? h('div', { class: 'notice notice-warn', 'data-testid': 'model-no-blocks' }, i.message ?? 'No attention blocks found.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', 'data-testid': 'model-blocks' },
            h(
              'thead',
              {},
              h('tr', {}, ['Layer', 'Form', 'Heads', 'KV heads', 'Head size', 'Causal', 'Scaling', 'Masking', 'RoPE', 'Scale', 'Scaled on'].map((t, i) => h('th', { scope: 'col', class: i === 0 || (i >= 2 && i <= 4) || i === 9 ? 'num' : null }, t))),
            ),
            h('tbody', {}, i.blocks.map(blockRow)),
          ),
        );
  const descriptions = [...new Set([...i.blocks.map((b) => b.description), ...i.blocks.map((b) => describeScale(b.effectiveScale, b.scaleSites))])];
  return h(
    'div',
    { class: 'model-inspection-body' },
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Size'),
      h('dd', {}, `${formatBytes(i.bytes)} (${i.bytes} bytes)`),
      h('dt', {}, 'sha256'),
      h('dd', { class: 'mono' }, i.sha256),
      h('dt', {}, 'Producer'),
      h('dd', {}, `${i.producer === '' ? '(not recorded)' : i.producer}, IR version ${i.irVersion}`),
      h('dt', {}, 'Opsets'),
      h('dd', {}, i.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', ')),
      h('dt', {}, 'Nodes'),
      h('dd', {}, String(i.nodeCount)),
    ),
    h('div', { class: 'grid-2' }, ioTable('Inputs', i.inputs, 'model-inputs'), ioTable('Outputs', i.outputs, 'model-outputs')),
    h('h3', {}, `Attention blocks: ${i.blocks.length}`),
    blocks,
    descriptions.length > 0 ? h('ul', { class: 'model-block-notes muted small' }, descriptions.map((d) => h('li', {}, d))) : null,
  );
}

/** Shows the inspection of an imported model (by id) or a built-in one; a later selection supersedes an earlier one. */
export function showInspection(page: ModelsPage, inspection: HTMLElement, which: number | { builtin: string }): void {
  const seq = ++page.inspectSeq;
  inspection.hidden = false;
  clear(inspection);
  inspection.append(h('div', { class: 'card-header' }, h('h2', {}, 'Inspection')), h('p', { class: 'muted' }, 'Inspecting…'));
  inspection.removeAttribute('data-model-id');
  const { ctx } = page;
  const call = typeof which === 'number' ? ctx.client.call('models.inspect', { id: which }) : ctx.client.call('models.inspectBuiltin', { name: which.builtin });
  call.then(
    (info) => {
      if (page.disposed || seq !== page.inspectSeq) return;
      clear(inspection);
      inspection.setAttribute('data-model-id', typeof which === 'number' ? String(which) : `builtin:${which.builtin}`);
      inspection.append(h('div', { class: 'card-header' }, h('h2', {}, `Inspection: ${info.name}`), h('span', { class: 'muted' }, shapeText(info))), renderInspection(info));
    },
    (e: unknown) => {
      if (page.disposed || seq !== page.inspectSeq) return;
      clear(inspection);
      inspection.append(h('div', { class: 'card-header' }, h('h2', {}, 'Inspection')), h('p', { class: 'muted' }, 'The model could not be inspected.'));
      ctx.reportError('Could not inspect the model', e);
    },
  );
}
