import type { ContractError } from '../../common/contract';

/** A failure with a contract error code; the dispatcher turns it into `{ ok: false, error }`. */
export class ServiceError extends Error {
  constructor(
    readonly code: ContractError['code'],
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
