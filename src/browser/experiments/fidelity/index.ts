/** Fidelity in the browser: its form and its results (its sections, then every metric in a table). */
import { defineBrowserKind } from '../shared/kind';
import { metricsCard } from '../shared/resultWidgets';
import { fidelityForm } from './form';
import { fidelitySections } from './view';

export const fidelityBrowser = defineBrowserKind({
  kind: 'fidelity',
  form: fidelityForm,
  resultSections: (run, ctx) => [...fidelitySections(run, ctx, ctx.onCleanup), metricsCard(run.metrics)],
});
