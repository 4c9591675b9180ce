/**
 * The interrupt guard of a search: once installed, SIGINT / SIGTERM (or an AbortSignal) mark it interrupted,
 * which is what the scheduler's stop condition reads — no new trial starts, running ones finish.
 *
 * The guard only records the signal. Ending the open runs KILLED and then letting the signal end the process is
 * the tracking layer's job (lib/tracking/lifecycle.ts); the guard's listeners are `once`, so they are gone by
 * the time the tracking layer re-raises the signal and never keep the process alive.
 */
import { AbortedError } from '../util/errors';

/** Where signals come from: `process` by default; tests pass an EventEmitter. */
export interface SignalSource {
  once(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface InterruptGuardOptions {
  /** Stops the search like a signal does (no new trial starts), without a signal. */
  abort?: AbortSignal;
  signals?: readonly NodeJS.Signals[];
  source?: SignalSource;
}

export const SEARCH_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export class InterruptGuard {
  private received: NodeJS.Signals | null = null;
  private installed = false;
  private readonly abort: AbortSignal | undefined;
  private readonly signals: readonly NodeJS.Signals[];
  private readonly source: SignalSource;
  private readonly listener = (signal: NodeJS.Signals): void => {
    this.received = signal;
  };

  constructor(options: InterruptGuardOptions = {}) {
    this.abort = options.abort;
    this.signals = options.signals ?? SEARCH_SIGNALS;
    this.source = options.source ?? process;
  }

  /** Starts listening (one `once` listener per signal); idempotent. */
  install(): this {
    if (this.installed) return this;
    this.installed = true;
    for (const s of this.signals) this.source.once(s, this.listener);
    return this;
  }

  /** Stops listening (the listeners that have not fired yet are removed); idempotent. */
  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    for (const s of this.signals) this.source.removeListener(s, this.listener);
  }

  /** The signal received while installed, or null (an abort alone leaves it null). */
  get signal(): NodeJS.Signals | null {
    return this.received;
  }

  /** True once a signal arrived or the AbortSignal aborted: start nothing new. */
  get interrupted(): boolean {
    return this.received !== null || this.abort?.aborted === true;
  }

  /** What stopped the search: the signal's name, else "aborted". */
  get reason(): string {
    return this.received ?? 'aborted';
  }

  /** Throws an AbortedError naming `what` and the reason when interrupted. */
  throwIfInterrupted(what: string): void {
    if (this.interrupted) throw new AbortedError(`${what} (${this.reason})`);
  }
}

/** An interrupt guard, not yet installed. */
export function interruptGuard(options: InterruptGuardOptions = {}): InterruptGuard {
  return new InterruptGuard(options);
}
