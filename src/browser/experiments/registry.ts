/**
 * The experiment kinds in the browser, one entry per kind of src/common/experiments/registry.ts
 * (a missing one is a type error): each kind's form on the New experiment page and its result
 * sections on a run's detail page. Titles and whether a kind resumes come from the common record.
 */
import type { RunDetail, RunDetailOf } from '../../common/contract';
import type { ExperimentKind } from '../../common/experiments/registry';
import { faithfulnessBrowser } from './faithfulness';
import { fidelityBrowser } from './fidelity';
import { kernelScalingBrowser } from './kernelScaling';
import type { BrowserExperimentKind, KindForm, ResultContext } from './shared/kind';
import type { ModelChoices } from './shared/modelChoices';

export const BROWSER_EXPERIMENT_KINDS: { readonly [K in ExperimentKind]: BrowserExperimentKind<K> } = {
  'kernel-scaling': kernelScalingBrowser,
  fidelity: fidelityBrowser,
  faithfulness: faithfulnessBrowser,
};

/** A fresh form of `kind` with its defaults. */
export function createKindForm(kind: ExperimentKind, models: ModelChoices): KindForm<ExperimentKind> {
  const definition: BrowserExperimentKind<ExperimentKind> = BROWSER_EXPERIMENT_KINDS[kind];
  return definition.createForm(models);
}

/** The result sections of a run, by its kind. */
export function resultSectionsOf(run: RunDetail, ctx: ResultContext): HTMLElement[] {
  return sectionsOf(run.kind, run as RunDetailOf<typeof run.kind>, ctx);
}

function sectionsOf<K extends ExperimentKind>(kind: K, run: RunDetailOf<K>, ctx: ResultContext): HTMLElement[] {
  const definition: BrowserExperimentKind<K> = BROWSER_EXPERIMENT_KINDS[kind];
  return definition.resultSections(run, ctx);
}
