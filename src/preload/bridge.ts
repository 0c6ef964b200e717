/**
 * The allow-lists and channels of what the Electron preload exposes to the renderer as
 * `window.attn` (its type, AttnBridge, is part of the contract in src/common/contract.ts). Pure and dependency-free on purpose: the sandboxed preload bundles this file, and
 * importing the contract's values would drag zod into it. The lists are checked against the
 * contract at compile time (below) and at test time (bridge.test.ts), so a method added to the
 * contract and not here fails `npm run typecheck`.
 */
import type { EventName, IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, MethodName } from '../common/contract';

export type { AttnBridge } from '../common/contract';

/** The global the preload defines in the renderer's main world. */
export const BRIDGE_KEY = 'attn';

export const INVOKE_CHANNEL = 'attn:invoke' satisfies typeof IPC_INVOKE_CHANNEL;
export const EVENT_CHANNEL = 'attn:event' satisfies typeof IPC_EVENT_CHANNEL;

export const METHOD_ALLOW_LIST = [
  'system.info',
  'presets.list',
  'runs.start',
  'runs.list',
  'runs.get',
  'runs.cancel',
  'runs.artifact',
  'runs.resume',
  'reports.export',
  'models.list',
  'models.fetch',
  'models.import',
  'models.inspect',
  'models.inspectBuiltin',
  'models.delete',
  'models.importLocal',
] as const satisfies readonly MethodName[];

export const EVENT_ALLOW_LIST = ['run.progress', 'run.finished', 'model.progress', 'model.fetched'] as const satisfies readonly EventName[];

// Compile-time exhaustiveness: every contract method and event is in the lists above.
type MissingMethods = Exclude<MethodName, (typeof METHOD_ALLOW_LIST)[number]>;
type MissingEvents = Exclude<EventName, (typeof EVENT_ALLOW_LIST)[number]>;
type AllListed<Missing> = [Missing] extends [never] ? true : { notInAllowList: Missing };
export const allowListsComplete: AllListed<MissingMethods> & AllListed<MissingEvents> = true;
