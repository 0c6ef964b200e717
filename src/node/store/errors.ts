/** The errors the store raises on purpose (every repository and the connection share them). */

export type StoreErrorCode = 'invalid-argument' | 'not-found' | 'conflict' | 'version' | 'format' | 'io';

/** Every error the store raises on purpose. `code` maps onto the contract's error codes. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    message: string,
    readonly code: StoreErrorCode,
  ) {
    super(message);
  }
}

/** The database was written by a newer build (or needs a migration a read-only open can't do). */
export class StoreVersionError extends StoreError {
  override readonly name = 'StoreVersionError';
  constructor(
    readonly path: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
    message?: string,
  ) {
    super(
      message ??
        `database ${path} is at schema version ${fileVersion} but this build knows up to ${knownVersion}; upgrade Attention Workbench`,
      'version',
    );
  }
}

/** The file is not a SQLite database, or is one that belongs to another application. */
export class StoreFormatError extends StoreError {
  override readonly name = 'StoreFormatError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message, 'format');
  }
}
