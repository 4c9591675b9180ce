import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { interruptGuard, SEARCH_SIGNALS } from '../../lib/search/signals';
import { AbortedError } from '../../lib/util/errors';

describe('interrupt guard', () => {
  it('records the first signal while installed, stops listening once it fired or is uninstalled', () => {
    const source = new EventEmitter();
    const guard = interruptGuard({ source });
    expect(guard.interrupted).toBe(false);
    source.emit('SIGINT', 'SIGINT');
    expect(guard.interrupted).toBe(false); // not installed yet
    guard.install().install(); // idempotent: one listener per signal
    for (const s of SEARCH_SIGNALS) expect(source.listenerCount(s)).toBe(1);
    source.emit('SIGTERM', 'SIGTERM');
    expect(guard.interrupted).toBe(true);
    expect(guard.signal).toBe('SIGTERM');
    expect(guard.reason).toBe('SIGTERM');
    // `once`: the fired listener is gone (so it never keeps a re-raised signal from ending the process)
    expect(source.listenerCount('SIGTERM')).toBe(0);
    expect(source.listenerCount('SIGINT')).toBe(1);
    guard.uninstall();
    guard.uninstall();
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(() => guard.throwIfInterrupted('search')).toThrow(new AbortedError('search (SIGTERM)'));
  });

  it('an AbortSignal interrupts without a signal', () => {
    const abort = new AbortController();
    const guard = interruptGuard({ abort: abort.signal, source: new EventEmitter() }).install();
    expect(() => guard.throwIfInterrupted('search')).not.toThrow();
    abort.abort();
    expect(guard.interrupted).toBe(true);
    expect(guard.signal).toBeNull();
    expect(() => guard.throwIfInterrupted('search')).toThrow('search (aborted) was aborted');
    guard.uninstall();
  });

  it('on the real process: install adds one listener per signal, uninstall removes exactly those', () => {
    const before = SEARCH_SIGNALS.map((s) => process.listenerCount(s));
    const guard = interruptGuard().install();
    expect(SEARCH_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    guard.uninstall();
    expect(SEARCH_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
