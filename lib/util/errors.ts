/** Base class of every error reelab raises on purpose: the message is meant for the user as is. */
export class ReelabError extends Error {
  override readonly name: string = 'ReelabError';
}

/** Bad input data: names the file and, when known, the 1-based line. */
export class DataError extends ReelabError {
  override readonly name = 'DataError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
  }
}

/** A bad setting, option or config value: names the field and what is allowed. */
export class ConfigError extends ReelabError {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Thrown when work was cancelled through an AbortSignal. */
export class AbortedError extends ReelabError {
  override readonly name = 'AbortedError';
  constructor(what = 'operation') {
    super(`${what} was aborted`);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new AbortedError(what);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
