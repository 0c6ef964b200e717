/**
 * A run's artifacts fetched with runs.artifact when first needed, decoded and kept by id: one
 * request per artifact while it is pending or loaded, and a failed one is forgotten so that the
 * next call asks again.
 */
import type { ArtifactData, ArtifactSummary } from '../../common/contract';
import type { ViewContext } from './viewContext';

export interface ArtifactCache<T> {
  /** The decoded artifact (a decode error rejects). */
  load(artifact: ArtifactSummary): Promise<T>;
  /** Forgets every artifact. */
  clear(): void;
}

export function artifactCache<T>(ctx: ViewContext, runId: number, decode: (data: ArtifactData, artifact: ArtifactSummary) => T): ArtifactCache<T> {
  const cache = new Map<number, Promise<T>>();
  return {
    load(a) {
      let p = cache.get(a.id);
      if (!p) {
        p = ctx.client.call('runs.artifact', { runId, artifactId: a.id }).then((data) => decode(data, a));
        p.catch(() => cache.delete(a.id));
        cache.set(a.id, p);
      }
      return p;
    },
    clear() {
      cache.clear();
    },
  };
}
