import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ReelabError } from '../util/errors';

/** A task: an exported function of a .ts/.js module, called with one structured-clonable payload. */
export interface TaskRef {
  /** Absolute path of the module (use `__filename` or `require.resolve`). */
  module: string;
  fn: string;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A fixed set of worker threads that run exported task functions. Typed arrays backed by SharedArrayBuffer
 * in a payload are shared, not copied, which is how model factors and score blocks cross threads.
 * Work is always split by the caller into deterministic pieces, so results never depend on scheduling.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy: number[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1))
      throw new RangeError(`thread count must be a positive integer, got ${size}`);
    const entry = join(__dirname, 'worker-entry.js');
    for (let w = 0; w < size; w++) {
      const worker = new Worker(entry);
      worker.unref();
      worker.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.busy[w]!--;
        if (this.busy[w] === 0) worker.unref();
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ReelabError(`worker task failed: ${msg.error}`));
      });
      worker.on('error', (err) => this.failAll(err));
      this.workers.push(worker);
      this.busy.push(0);
    }
  }

  /** Runs one task on worker `index % size`. */
  run<T>(index: number, task: TaskRef, payload: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new ReelabError('worker pool is closed'));
    const w = index % this.size;
    const id = this.nextId++;
    const worker = this.workers[w]!;
    if (this.busy[w]!++ === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, module: task.module, fn: task.fn, payload });
    });
  }

  /** Runs one task per payload, payload i on worker i % size, and waits for all. */
  map<T>(task: TaskRef, payloads: unknown[]): Promise<T[]> {
    return Promise.all(payloads.map((p, i) => this.run<T>(i, task, p)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

const shared = new Map<number, WorkerPool>();

/** A process-wide pool of `threads` workers, created on first use and reused (idle workers don't keep Node alive). */
export function workerPool(threads: number): WorkerPool {
  let pool = shared.get(threads);
  if (!pool) {
    pool = new WorkerPool(threads);
    shared.set(threads, pool);
  }
  return pool;
}

/** Number of threads to use when the caller does not say: the machine's cores, at most 2 by default. */
export function defaultThreads(): number {
  const env = Number(process.env.REELAB_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** Typed arrays on SharedArrayBuffer so workers can read and write them in place. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** Copies an array into shared memory (no copy when it already is shared). */
export function toShared<T extends Float32Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = (a instanceof Float32Array ? sharedFloat32(a.length) : sharedInt32(a.length)) as T;
  copy.set(a);
  return copy;
}

/** Splits 0..n into `parts` contiguous ranges of near-equal size. */
export function ranges(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 0; p < parts; p++) out.push([Math.floor((n * p) / parts), Math.floor((n * (p + 1)) / parts)]);
  return out;
}
