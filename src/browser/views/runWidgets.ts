/** Pieces shared by the runs table and the run detail: status badge and progress bar. */
import type { RunSummary } from '../../common/contract';
import { h } from '../dom';
import { progressView } from '../runState';

export function statusBadge(status: RunSummary['status']): HTMLElement {
  return h('span', { class: `badge badge-${status}`, 'data-status': status }, status);
}

export interface ProgressBar {
  readonly el: HTMLElement;
  update(run: RunSummary, message?: string): void;
}

export function progressBar(testId: string): ProgressBar {
  const fill = h('div', { class: 'progress-fill' });
  const text = h('span', { class: 'progress-text' });
  const el = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': testId },
    h('div', { class: 'progress-track' }, fill),
    text,
  );
  return {
    el,
    update(run, message) {
      const view = progressView(run);
      const pct = Math.round(Math.min(1, Math.max(0, view.fraction)) * 1000) / 10;
      fill.style.width = `${pct}%`;
      fill.className = `progress-fill progress-${run.status}`;
      text.textContent = view.text;
      el.setAttribute('aria-valuenow', String(Math.floor(pct)));
      el.setAttribute('aria-valuetext', view.text);
      if (message) el.title = message;
    },
  };
}
