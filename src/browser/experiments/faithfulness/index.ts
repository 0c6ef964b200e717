/** Faithfulness in the browser: its form and its results. */
import { defineBrowserKind } from '../shared/kind';
import { faithfulnessForm } from './form';
import { faithfulnessSections } from './view';

export const faithfulnessBrowser = defineBrowserKind({
  kind: 'faithfulness',
  form: faithfulnessForm,
  resultSections: (run, ctx) => faithfulnessSections(run, ctx, ctx.onCleanup),
});
