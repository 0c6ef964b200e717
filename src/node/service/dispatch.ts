/**
 * Dispatch: a method name and an untrusted argument in, a result or a contract error out. Unknown
 * methods and arguments that fail the method's schema are refused before any handler runs.
 */
import { z } from 'zod';
import type { ContractError, ContractHandler } from '../../common/contract';
import { isMethodName, methods } from '../../common/contract';
import type { Handlers } from './handlers/handlers';
import { ServiceError } from './serviceError';

export type Dispatch = ContractHandler['dispatch'];

export function createDispatch(handlers: Handlers, opts: { readonly log: (message: string) => void; readonly isClosed: () => boolean }): Dispatch {
  return async function dispatch(method, input) {
    if (opts.isClosed()) return { ok: false, error: { code: 'internal', message: 'the service is shutting down' } };
    if (!isMethodName(method)) {
      return { ok: false, error: { code: 'unknown-method', message: `unknown method '${String(method).slice(0, 100)}'` } };
    }
    const parsed = methods[method].input.safeParse(input);
    if (!parsed.success) {
      return { ok: false, error: { code: 'invalid-argument', message: `${method}: ${z.prettifyError(parsed.error)}` } };
    }
    try {
      const handler = handlers[method] as (i: unknown) => Promise<unknown> | unknown;
      return { ok: true, value: await handler(parsed.data) };
    } catch (e) {
      return { ok: false, error: failure(method, e, opts.log) };
    }
  };
}

/** The contract error for what a handler threw: its own code, a schema failure, or `internal` (logged). */
function failure(method: string, e: unknown, log: (message: string) => void): ContractError {
  if (e instanceof ServiceError) return { code: e.code, message: e.message };
  if (e instanceof z.ZodError) return { code: 'invalid-argument', message: `${method}: ${z.prettifyError(e)}` };
  const message = e instanceof Error ? e.message : String(e);
  log(`${method} failed: ${message}`);
  return { code: 'internal', message };
}
