import { Rng } from '../util/rng';

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  /** Delay cap of the first retry (ms); doubles each attempt. */
  baseDelayMs: number;
  /** Upper bound of any single delay (ms). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 250, maxDelayMs: 8000 };

/** Network failures worth retrying: the server is (re)starting, overloaded or the connection dropped. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** True for errors a retry can fix: no HTTP answer (connection refused/reset, timeout), 429 or 5xx. */
export function isTransientFailure(status: number | undefined, code: string | undefined): boolean {
  if (status !== undefined) return status === 429 || status >= 500;
  return code !== undefined && TRANSIENT_CODES.has(code);
}

// Jitter only spreads retries of concurrent clients apart; it needs no reproducibility, so the stream is
// seeded from the process and the clock.
const jitter = new Rng((process.pid * 2654435761) ^ Date.now());

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(max, base * 2^attempt)], or the server's
 * Retry-After when it sent one (capped at the maximum).
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    return Math.min(retryAfterMs, policy.maxDelayMs);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(jitter.next() * cap);
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: unknown): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A delay between attempts (kept referenced: someone awaits the retried call). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
