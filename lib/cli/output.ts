import type { MlflowClient } from '../tracking/mlflow-client';
import { ConfigError, ReelabError } from '../util/errors';
import type { RunSettings } from '../workflows/run-data';

/** Progress and notes for humans: always stderr, so stdout stays one JSON object under --json. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Prints the command's result: one JSON object with --json, else a readable form. */
export function printResult(result: object, json: boolean, human: (r: never) => string): void {
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${human(result as never)}\n`);
}

/** Reports an error on stderr and sets a non-zero exit code; stack traces only for unexpected errors. */
export function reportError(err: unknown): void {
  if (err instanceof ReelabError) note(`reelab: ${err.message}`);
  else if (err instanceof Error) note(`reelab: unexpected error: ${err.stack ?? err.message}`);
  else note(`reelab: ${String(err)}`);
  process.exitCode = 1;
}

/** Wraps a command action so errors are reported uniformly. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(err);
    }
  };
}

/**
 * Resolves on the first SIGINT or SIGTERM. Holds the event loop open meanwhile: a pending promise alone does
 * not, and the servers we start are unref'd children (their supervisor watches our exit instead).
 */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const done = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/** The run settings `evaluate` and `train` take from their flags (--seed, --threads, --data-dir, --experiment). */
export function cliRunSettings(
  opts: { seed: string; threads?: string; dataDir?: string; experiment?: string },
  tracking: MlflowClient | null,
): RunSettings {
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed)) throw new ConfigError('--seed', `must be an integer, got "${opts.seed}"`);
  const threads = opts.threads === undefined ? undefined : Number(opts.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
    throw new ConfigError('--threads', `must be a positive integer, got "${opts.threads}"`);
  return {
    seed,
    threads,
    dataDir: opts.dataDir,
    tracking,
    experiment: opts.experiment,
    source: 'cli',
    sourceName: `reelab ${process.argv.slice(2).join(' ')}`,
  };
}
