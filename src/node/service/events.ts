/** The service's events: listeners subscribe, the service emits; a failing listener is logged, not fatal. */
import type { EventName, EventPayload } from '../../common/contract';

export type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export interface EventHub {
  /** Calls every listener with the event, in subscription order. */
  readonly emit: Listener;
  /** Adds a listener; the returned function removes it. */
  subscribe(listener: Listener): () => void;
}

export function createEventHub(log: (message: string) => void): EventHub {
  const listeners = new Set<Listener>();
  const emit: Listener = (event, payload) => {
    for (const l of listeners) {
      try {
        l(event, payload);
      } catch (e) {
        log(`event listener failed: ${(e as Error).message}`);
      }
    }
  };
  return {
    emit,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
