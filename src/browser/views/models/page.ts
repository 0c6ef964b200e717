/** What the Models page's sections share: the view context, whether the page is gone, and the page's own actions. */
import type { ViewContext } from '../viewContext';

export interface ModelsPage {
  readonly ctx: ViewContext;
  disposed: boolean;
  /** Latest inspection request (an older answer is dropped). */
  inspectSeq: number;
  /** Reloads the model lists. */
  refresh(): Promise<void>;
  /** Selects an imported model (by id) or a built-in one and shows its inspection. */
  select(which: number | { builtin: string }): void;
}
