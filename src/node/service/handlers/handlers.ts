/**
 * The shape of the contract's implementation: one handler per method, taking the method's
 * validated input. Each domain file exports a factory returning the `HandlerMap` of its
 * methods; service.ts spreads them into one `Handlers`, so a method without a handler (or a
 * handler of the wrong type) does not compile.
 */
import type { MethodName, MethodOutput, MethodParsedInput, SystemInfo } from '../../../common/contract';
import type { ModelLibrary } from '../../models/modelLibrary';
import type { Store } from '../../store/store';
import type { EventHub } from '../events';
import type { RunQueue } from '../runQueue';

export type Handler<M extends MethodName> = (input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;

export type Handlers = { [M in MethodName]: Handler<M> };

/** The handlers of some methods: what one domain file provides. */
export type HandlerMap<M extends MethodName> = Pick<Handlers, M>;

/** Everything the handlers work with; each factory takes the part it needs. */
export interface ServiceContext {
  readonly store: Store;
  readonly host: SystemInfo['host'];
  /** Versions of what produces the runs (recorded with every run). */
  readonly versions: Readonly<Record<string, string>>;
  readonly log: (message: string) => void;
  readonly events: EventHub;
  readonly queue: RunQueue;
  readonly models: ModelLibrary;
  /** The host's own picker of a local model folder or file (the desktop app's dialog); absent elsewhere. */
  readonly pickLocalModel?: LocalModelPicker;
}

/** Asks the user for a model folder or .onnx file on this machine; null when they cancel. */
export type LocalModelPicker = (pick: 'folder' | 'file') => Promise<string | null>;
