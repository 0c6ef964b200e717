/** The one place failures are shown: a banner at the top of the page (data-testid error-banner). */
import { button, h } from './dom';

export class ErrorBanner {
  private el: HTMLElement | null = null;

  constructor(private readonly host: HTMLElement) {}

  /** Shows (or replaces) the message. A persistent banner has no dismiss button. */
  show(title: string, message: string, opts: { persistent?: boolean } = {}): void {
    this.hide();
    const dismiss = opts.persistent ? null : button('Dismiss', () => this.hide(), { class: 'btn btn-ghost btn-small', 'aria-label': 'Dismiss error' });
    this.el = h(
      'div',
      { class: 'error-banner', role: 'alert', 'data-testid': 'error-banner' },
      h('div', { class: 'error-banner-text' }, h('strong', {}, title), h('span', { class: 'error-banner-message' }, message)),
      dismiss,
    );
    this.host.appendChild(this.el);
  }

  hide(): void {
    this.el?.remove();
    this.el = null;
  }
}
