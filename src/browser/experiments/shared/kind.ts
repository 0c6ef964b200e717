/**
 * What every experiment kind provides in the browser (src/browser/experiments/<kind>/index.ts),
 * registered once in src/browser/experiments/registry.ts: its form (its part of the New
 * experiment page: state and defaults, the panel it mounts, the spec its state describes and the
 * messages for what is wrong) and its result view (its part of a run's detail page). The pure
 * layer's record (src/common/experiments/registry.ts) gives its title and whether it resumes.
 */
import type { RunDetailOf } from '../../../common/contract';
import type { ExperimentKind, ExperimentSpecInputOf } from '../../../common/experiments/registry';
import type { ViewContext } from '../../views/viewContext';
import type { ModelChoices } from './modelChoices';

/** What a form's panel gets from the New experiment page. */
export interface FormEnv {
  /** Call after any change of the form's state: the page rebuilds the spec preview and the validation list. */
  readonly changed: () => void;
  /** The models the page knows now (empty until models.list has answered). */
  readonly models: () => ModelChoices;
  /** Calls `listener` whenever the model list changes, while the panel is shown. */
  readonly onModels: (listener: () => void) => void;
  /** Whether the page has gone (asynchronous work such as reading a file then stops). */
  readonly disposed: () => boolean;
}

/** A kind's form, pure parts and panel, over its own state type. */
export interface ExperimentFormDefinition<K extends ExperimentKind, State> {
  /** Fresh state with the kind's defaults (the default model is the built-in default, when known). */
  defaults(models: ModelChoices): State;
  /** The kind's part of the New experiment page, bound to `state`. */
  panel(state: State, env: FormEnv): Node[];
  /** The spec input `state` describes, named `name`; readable problems are pushed to `errors`. */
  spec(state: State, name: string, models: ModelChoices, errors: string[]): ExperimentSpecInputOf<K>;
}

/** One form of a kind: its state (with the defaults) bound to its panel and spec. */
export interface KindForm<K extends ExperimentKind> {
  panel(env: FormEnv): Node[];
  spec(name: string, models: ModelChoices, errors: string[]): ExperimentSpecInputOf<K>;
}

/** What a result view gets from the run detail page. */
export interface ResultContext extends ViewContext {
  /** Registers what to undo (plots, listeners, caches) when the page re-renders or goes. */
  readonly onCleanup: (cleanup: () => void) => void;
}

/** An experiment kind in the browser: its form and its result view. */
export interface BrowserExperimentKind<K extends ExperimentKind> {
  readonly kind: K;
  /** A form of this kind with its defaults, for the New experiment page. */
  createForm(models: ModelChoices): KindForm<K>;
  /** The sections the run detail page shows for a run of this kind that has metrics (between the overview and the spec). */
  resultSections(run: RunDetailOf<K>, ctx: ResultContext): HTMLElement[];
}

/** A kind's browser definition from its form (over any state type) and its result view. */
export function defineBrowserKind<K extends ExperimentKind, State>(definition: {
  readonly kind: K;
  readonly form: ExperimentFormDefinition<K, State>;
  readonly resultSections: BrowserExperimentKind<K>['resultSections'];
}): BrowserExperimentKind<K> {
  const { kind, form, resultSections } = definition;
  return {
    kind,
    createForm(models) {
      const state = form.defaults(models);
      return {
        panel: (env) => form.panel(state, env),
        spec: (name, current, errors) => form.spec(state, name, current, errors),
      };
    },
    resultSections,
  };
}
