/**
 * The spec the New experiment page shows and sends: the kind's form builds it (with its own
 * messages), then the same schema the service uses checks it (the service validates it again).
 */
import type { ExperimentKind, ExperimentSpecInput, ExperimentSpecInputOf } from '../../../common/experiments/registry';
import { ExperimentSpec } from '../../../common/experiments/registry';

export interface BuiltSpec {
  /** The spec as it would be sent (present even when there are errors, for the preview). */
  readonly spec: ExperimentSpecInput;
  /** Readable problems; the spec is sent only when there are none. */
  readonly errors: readonly string[];
}

/** The spec a kind's form describes under `name` (empty: the kind), and what is wrong with it (form checks, then the spec schema). */
export function buildSpec<K extends ExperimentKind>(kind: K, name: string, describe: (name: string, errors: string[]) => ExperimentSpecInputOf<K>): BuiltSpec {
  const errors: string[] = [];
  const trimmed = name.trim() === '' ? kind : name.trim();
  if (trimmed.length > 200) errors.push('Name: at most 200 characters');
  const spec: ExperimentSpecInput = describe(trimmed, errors);
  if (errors.length === 0) errors.push(...schemaErrors(spec));
  return { spec, errors };
}

/** The spec schema's complaints, as "path: message" lines (empty when the spec is valid). */
export function schemaErrors(spec: unknown): string[] {
  const parsed = ExperimentSpec.safeParse(spec);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message));
}
