/** `system.info`: the app, the host it runs in, the store and the execution providers. */
import { availableProviders } from '../../ort/session';
import type { HandlerMap, ServiceContext } from './handlers';

export function systemHandlers(ctx: Pick<ServiceContext, 'store' | 'host' | 'versions' | 'pickLocalModel'>): HandlerMap<'system.info'> {
  return {
    'system.info': async () => ({
      appVersion: ctx.versions['workbench'] ?? '0.0.0',
      host: ctx.host,
      dbPath: ctx.store.path,
      providers: (await availableProviders()).map((p) => ({ name: p.name, available: p.available })),
      versions: ctx.versions,
      localImport: ctx.pickLocalModel !== undefined,
    }),
  };
}
