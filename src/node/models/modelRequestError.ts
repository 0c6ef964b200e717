/** Why a model request was refused: mapped onto the contract's error codes by the service. */
export class ModelRequestError extends Error {
  constructor(
    readonly code: 'invalid-argument' | 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'ModelRequestError';
  }
}
