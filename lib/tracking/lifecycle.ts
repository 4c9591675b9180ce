/**
 * Process-level care for open runs: while any run is open, SIGINT/SIGTERM end them KILLED (children first),
 * flush what they buffered and then let the signal take the process down as usual (exit status 128+n); a
 * process that exits with runs still open writes their buffered records and an end record to the outbox.
 */

export interface OpenRun {
  /** 0 for top-level runs, parent depth + 1 for nested ones. */
  readonly depth: number;
  /** Ends the run KILLED (flushes first); must not throw. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Synchronously writes buffered records and an end record to the outbox (nothing async runs any more). */
  saveOnExit(status: 'FINISHED' | 'FAILED' | 'KILLED', reason: string): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
/** How long ending runs may take after a signal before we give up and write them to the outbox. */
export const KILL_GRACE_MS = 15_000;

const open = new Set<OpenRun>();
let installed = false;
let handling = false;

export function trackOpenRun(run: OpenRun): void {
  open.add(run);
  if (!installed) install();
}

export function untrackOpenRun(run: OpenRun): void {
  open.delete(run);
  if (open.size === 0 && installed && !handling) uninstall();
}

/** Runs currently open in this process. */
export function openRunCount(): number {
  return open.size;
}

function install(): void {
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  installed = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.removeListener('exit', onExit);
}

function onExit(code: number): void {
  for (const run of [...open]) {
    run.saveOnExit(
      code === 0 ? 'FINISHED' : 'FAILED',
      `process exited (code ${code}) while the run was open`,
    );
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (handling) {
    // A second Ctrl-C: stop waiting for the server, keep everything in the outbox and go.
    for (const run of [...open]) run.saveOnExit('KILLED', `received ${signal} twice`);
    open.clear();
    process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
  }
  handling = true;
  const runs = [...open].sort((a, b) => b.depth - a.depth);
  const ending = (async () => {
    for (const run of runs) await run.kill(signal);
  })();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, KILL_GRACE_MS);
  });
  void Promise.race([ending, grace]).then(() => {
    clearTimeout(timer);
    for (const run of [...open])
      run.saveOnExit('KILLED', `received ${signal}; the server did not answer in time`);
    open.clear();
    handling = false;
    uninstall();
    // Let the signal do what it would have done without us, unless someone else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
