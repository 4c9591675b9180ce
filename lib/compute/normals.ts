import { boxMuller, type Rng } from '../util/rng';
import type { WorkerPool } from './pool';

/** Below this many values a parallel fill costs more in task round trips than it saves. */
const PARALLEL_MIN_VALUES = 1 << 17;

export interface NormalsTask {
  uniforms: Uint32Array;
  first: number;
  end: number;
  out: Float32Array;
  at: number;
  mean: number;
  std: number;
}

/** Worker task: Box–Muller pairs [first, end) of the shared uniforms into the shared output. */
export function normalsTask(t: NormalsTask): number {
  boxMuller(t.uniforms, t.first, t.end, t.out, t.at, t.mean, t.std);
  return t.end - t.first;
}

/**
 * `rng.fillNormal(out, mean, std)` with the transcendental part (log, sqrt, cos, sin: ~30 ns per value) split
 * over the pool's threads: this thread draws the uniforms in order, the workers transform disjoint ranges of
 * pairs. The values and the generator's state afterwards are exactly those of `fillNormal`. `out` must be
 * backed by a SharedArrayBuffer when a pool is given.
 */
export async function fillNormalParallel(
  rng: Rng,
  out: Float32Array,
  mean: number,
  std: number,
  pool: WorkerPool | null,
): Promise<void> {
  if (!pool || out.length < PARALLEL_MIN_VALUES) {
    rng.fillNormal(out, mean, std);
    return;
  }
  let i = 0;
  if (rng.hasSpareNormal) out[i++] = rng.normal(mean, std);
  const pairs = (out.length - i) >> 1;
  const uniforms = rng.normalUniforms(pairs, new Uint32Array(new SharedArrayBuffer(8 * pairs)));
  const payloads: NormalsTask[] = [];
  for (let t = 0; t < pool.size; t++) {
    const first = Math.floor((pairs * t) / pool.size);
    const end = Math.floor((pairs * (t + 1)) / pool.size);
    if (end > first) payloads.push({ uniforms, first, end, out, at: i + 2 * first, mean, std });
  }
  await pool.map<number>({ module: __filename, fn: 'normalsTask' }, payloads);
  if (i + 2 * pairs < out.length) out[out.length - 1] = rng.normal(mean, std);
}
