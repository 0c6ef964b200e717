/** Building a kind's spec from its form state in tests, as the New experiment page does. */
import type { ExperimentKind } from '../../../common/experiments/registry';
import type { BuiltSpec } from './buildSpec';
import { buildSpec } from './buildSpec';
import type { ExperimentFormDefinition } from './kind';
import type { ModelChoices } from './modelChoices';

/** The model list the page gets from models.list with the built-in model. */
export const TEST_MODELS: ModelChoices = {
  builtin: [{ name: 'spam-encoder', task: 'classification', labels: ['ham', 'spam'], isDefault: true }],
  catalog: [{ name: 'stories260K', cached: false }],
};

/** The spec of a form with its defaults, edited by `edit`, under `name`. */
export function formSpec<K extends ExperimentKind, State>(kind: K, form: ExperimentFormDefinition<K, State>, edit: (state: State) => void, name = ''): BuiltSpec {
  const state = form.defaults(TEST_MODELS);
  edit(state);
  return buildSpec(kind, name, (n, errors) => form.spec(state, n, TEST_MODELS, errors));
}
