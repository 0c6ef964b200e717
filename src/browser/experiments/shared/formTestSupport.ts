/** Building a kind's spec from its form state in tests, as the New experiment page does. */
import type { ExperimentKind } from '../../../common/experiments/registry';
import type { BuiltSpec } from './buildSpec';
import { buildSpec } from './buildSpec';
import type { ExperimentFormDefinition } from './kind';
import type { ModelChoices } from './modelChoices';

/** The model list the page gets from models.list with the built-in model, the catalog and imported models of every task (and none). */
export const TEST_MODELS: ModelChoices = {
  builtin: [{ name: 'spam-encoder', task: 'classification', labels: ['ham', 'spam'], isDefault: true }],
  catalog: [{ name: 'stories260K', cached: false }],
  imported: [
    { id: 3, name: 'my-bert', task: { kind: 'classifier', labels: ['neg', 'pos'], output: 'logits' }, labels: ['neg', 'pos'], hasTokenizer: true },
    { id: 4, name: 'gpt2-tiny', task: { kind: 'next-token', output: 'logits' }, hasTokenizer: true },
    { id: 5, name: 'encoder', task: { kind: 'embedding', pooling: 'mean', output: 'last_hidden_state' }, hasTokenizer: true },
    { id: 6, name: 'vit-tiny', task: { kind: 'image-classifier', labels: ['red', 'green', 'blue'], output: 'logits' }, labels: ['red', 'green', 'blue'], hasTokenizer: false },
    { id: 7, name: 'bare.onnx' },
    { id: 8, name: 'no-tokenizer', task: { kind: 'classifier', labels: ['a', 'b'], output: 'logits' }, labels: ['a', 'b'], hasTokenizer: false },
  ],
};

/** The spec of a form with its defaults, edited by `edit`, under `name`. */
export function formSpec<K extends ExperimentKind, State>(kind: K, form: ExperimentFormDefinition<K, State>, edit: (state: State) => void, name = ''): BuiltSpec {
  const state = form.defaults(TEST_MODELS);
  edit(state);
  return buildSpec(kind, name, (n, errors) => form.spec(state, n, TEST_MODELS, errors));
}
