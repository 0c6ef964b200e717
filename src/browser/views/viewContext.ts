import type { ContractClient } from '../../common/contract';

/** What every view gets from the app shell. */
export interface ViewContext {
  readonly client: ContractClient;
  /** Shows a failure in the error banner. */
  readonly reportError: (title: string, error: unknown) => void;
  readonly clearError: () => void;
  readonly navigate: (hash: string) => void;
}

/** A mounted view; `dispose` removes its listeners and frees what it holds. */
export interface View {
  dispose(): void;
}
