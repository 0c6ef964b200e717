/** Test support shared by the report tests: a finished run with given metrics, and a hostile string every report must escape. */
import type { RunDetailOf } from '../../src/common/contract';
import type { ExperimentKind } from '../../src/common/experiments/registry';

/** A name no report may print unescaped. */
export const EVIL = '<script>alert("x")</script>';

/** A finished CPU run of the `spam-encoder` model with no artifacts: `fields` (which run, and its metrics) then `over` on top. */
export function finishedRun<K extends ExperimentKind>(fields: Pick<RunDetailOf<K>, 'id' | 'experimentName' | 'kind' | 'spec' | 'metrics'>, over: Partial<RunDetailOf<K>> = {}): RunDetailOf<K> {
  return {
    id: fields.id,
    experimentId: 1,
    experimentName: fields.experimentName,
    kind: fields.kind,
    status: 'done',
    createdMs: 0,
    startedMs: 0,
    finishedMs: 1000,
    progress: 1,
    etaMs: null,
    executionProvider: 'cpu',
    seed: 0,
    error: null,
    tags: [],
    spec: fields.spec,
    specHash: 'abc',
    versions: {},
    params: {},
    metrics: fields.metrics,
    modelId: 'spam-encoder',
    modelSha256: 'deadbeef',
    artifacts: [],
    ...over,
  };
}
