/**
 * EASE's closed form (Steck 2019) from a sparse user × item matrix X: B = I − P·diag(1/diag P), diag B = 0,
 * with P = (XᵀX + λI)⁻¹, all in Float64 (B is returned in Float32).
 *
 * Two exact routes, chosen by cost (both give the same B up to rounding, ~1e-12 relative):
 * - primal: G = XᵀX + λI (m × m, from each user's outer product) inverted in place by the block sweep of
 *   ./dense-spd.ts — m³ flops.
 * - dual (Woodbury): P = (I − Xᵀ K X)/λ with K = (λI + XXᵀ)⁻¹ (u × u, u = users with data). Only the small
 *   u × u matrix is inverted (u³ flops); then T = K X and every B row is a sparse–dense product, so the m × m
 *   work is nnz·m gathered multiply-adds and P itself is never stored: with P_ij = −x_iᵀK x_j / λ (i ≠ j)
 *   and λP_jj = 1 − x_jᵀK x_j = d_j, B_ij = (x_iᵀ K x_j) / d_j.
 *   MovieLens-latest-small has 610 users and 8,239 training items: 0.2 GFLOP instead of 560.
 */
import { ConfigError, throwIfAborted } from '../util/errors';
import { SpdMatrix, spdBytes } from './dense-spd';
import { workerPool } from './pool';
import type { SparseMatrix } from './sparse';

export type EaseSolver = 'primal' | 'dual';

export interface EaseSolveOptions {
  threads?: number;
  /** 'auto' (default) picks the cheaper route for the data's shape. */
  solver?: 'auto' | EaseSolver;
  signal?: AbortSignal;
  /** Kernel of the dense inverse (default 'auto' = WebAssembly SIMD when available). */
  kernel?: 'auto' | 'wasm' | 'js';
  /** Pivot block of the dense inverse. */
  block?: number;
}

export interface EaseSolution {
  /** m × m row-major, zero diagonal. */
  b: Float32Array;
  solver: EaseSolver;
  /** Users with at least one entry (the dual's matrix size). */
  users: number;
}

/**
 * Rough rates (this machine, one core): the dense inverse's GEMM kernel ~1e10 flop/s, the dual's gathered
 * multiply-adds ~5e8/s. Only their ratio matters, and a wrong pick costs time, never accuracy.
 */
const DENSE_RATE = 1e10;
const GATHER_RATE = 5e8;

/** The cheaper route for `users` users with data, `items` items and `nnz` entries. */
export function chooseEaseSolver(users: number, items: number, nnz: number): EaseSolver {
  const primal = items ** 3 / DENSE_RATE + nnz / GATHER_RATE;
  const dual = users ** 3 / DENSE_RATE + (nnz * (items + users)) / GATHER_RATE;
  return dual < primal ? 'dual' : 'primal';
}

/** Peak bytes of a route (the item × item B in Float32 included). */
export function easeSolverBytes(solver: EaseSolver, users: number, items: number): number {
  const b = 4 * items * items;
  return solver === 'primal' ? spdBytes(items) + b : spdBytes(users) + 8 * items * users + b;
}

/**
 * B for X (users × m; entries with value 0 are ignored). Throws ConfigError when XᵀX + λI is not positive
 * definite numerically (raise λ).
 */
export async function easeWeights(
  x: SparseMatrix,
  lambda: number,
  options: EaseSolveOptions = {},
): Promise<EaseSolution> {
  if (!(lambda > 0 && Number.isFinite(lambda)))
    throw new ConfigError('lambda', `must be a positive number, got ${lambda}`);
  let users = 0;
  let nnz = 0;
  for (let u = 0; u < x.nRows; u++) {
    let any = false;
    for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++) {
      if (x.values[p] !== 0) {
        nnz++;
        any = true;
      }
    }
    if (any) users++;
  }
  const choice = options.solver ?? 'auto';
  if (x.nCols === 0) return { b: new Float32Array(0), solver: choice === 'dual' ? 'dual' : 'primal', users };
  const solver = choice === 'auto' ? chooseEaseSolver(users, x.nCols, nnz) : choice;
  const b =
    solver === 'primal' ? await primal(x, lambda, options) : await dual(x, lambda, users, nnz, options);
  return { b, solver, users };
}

function notPositiveDefinite(): ConfigError {
  return new ConfigError('lambda', 'XᵀX + λI is not positive definite numerically; raise lambda');
}

async function primal(x: SparseMatrix, lambda: number, options: EaseSolveOptions): Promise<Float32Array> {
  const m = x.nCols;
  const spd = await SpdMatrix.create(m, { kernel: options.kernel, block: options.block });
  const { a, ld } = spd;
  const { indptr, indices, values } = x;
  // Lower triangle of XᵀX: column indices ascend within a row, so (indices[p], indices[q ≤ p]) is lower.
  for (let u = 0; u < x.nRows; u++) {
    const start = indptr[u]!;
    for (let p = start; p < indptr[u + 1]!; p++) {
      const vp = values[p]!;
      if (vp === 0) continue;
      const row = indices[p]! * ld;
      for (let q = start; q <= p; q++) {
        const vq = values[q]!;
        if (vq !== 0) a[row + indices[q]!]! += vp * vq;
      }
    }
  }
  for (let i = 0; i < m; i++) a[i * ld + i]! += lambda;
  throwIfAborted(options.signal, 'EASE training');
  if (!(await spd.invert(options.threads ?? 1, options.signal))) throw notPositiveDefinite();
  spd.mirror();
  const b = new Float32Array(m * m);
  const diag = new Float64Array(m);
  for (let j = 0; j < m; j++) diag[j] = a[j * ld + j]!;
  for (let i = 0; i < m; i++) {
    const row = i * ld;
    const out = i * m;
    for (let j = 0; j < m; j++) b[out + j] = -a[row + j]! / diag[j]!;
    b[out + i] = 0;
  }
  return b;
}

/** Shared arrays of the dual's B-row phase (one payload for every thread). */
export interface DualRowsTask {
  m: number;
  users: number;
  /** T = (K X)ᵀ, m × users. */
  tt: Float64Array;
  /** X by columns (items), row indices = compact users. */
  colPtr: Int32Array;
  rowIdx: Int32Array;
  colVal: Float64Array;
  /** d_j = λ·P_jj. */
  d: Float64Array;
  b: Float32Array;
  /** [0] = next unit of ROWS_PER_UNIT rows. */
  ctrl: Int32Array;
}

const ROWS_PER_UNIT = 32;

/**
 * Worker task (also run inline): B rows i in units claimed from the shared counter. Four rows at a time share
 * each pass over X's columns; every entry is a sum over the column's users in ascending order, so any split
 * gives the same bits.
 */
export function dualRowsTask(t: DualRowsTask): void {
  const { m, users, tt, colPtr, rowIdx, colVal, d, b, ctrl } = t;
  const units = Math.ceil(m / ROWS_PER_UNIT);
  for (let u = Atomics.add(ctrl, 0, 1); u < units; u = Atomics.add(ctrl, 0, 1)) {
    const end = Math.min(m, (u + 1) * ROWS_PER_UNIT);
    let i = u * ROWS_PER_UNIT;
    for (; i + 4 <= end; i += 4) {
      const t0 = i * users;
      const t1 = t0 + users;
      const t2 = t1 + users;
      const t3 = t2 + users;
      for (let j = 0; j < m; j++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
          const v = colVal[p]!;
          const r = rowIdx[p]!;
          s0 += v * tt[t0 + r]!;
          s1 += v * tt[t1 + r]!;
          s2 += v * tt[t2 + r]!;
          s3 += v * tt[t3 + r]!;
        }
        const dj = d[j]!;
        b[i * m + j] = s0 / dj;
        b[(i + 1) * m + j] = s1 / dj;
        b[(i + 2) * m + j] = s2 / dj;
        b[(i + 3) * m + j] = s3 / dj;
      }
      for (let r = 0; r < 4; r++) b[(i + r) * m + i + r] = 0;
    }
    for (; i < end; i++) {
      const t0 = i * users;
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) s += colVal[p]! * tt[t0 + rowIdx[p]!]!;
        b[i * m + j] = s / d[j]!;
      }
      b[i * m + i] = 0;
    }
  }
}

const DUAL_ROWS_TASK = { module: __filename, fn: 'dualRowsTask' };

async function dual(
  x: SparseMatrix,
  lambda: number,
  users: number,
  nnz: number,
  options: EaseSolveOptions,
): Promise<Float32Array> {
  const m = x.nCols;
  if (users === 0) return new Float32Array(m * m);
  const threads = options.threads ?? 1;
  const { indptr, indices, values } = x;
  // X by columns, users renumbered 0..users−1 (ascending within a column).
  const colPtr = new Int32Array(new SharedArrayBuffer((m + 1) * 4));
  const rowIdx = new Int32Array(new SharedArrayBuffer(Math.max(1, nnz) * 4));
  const colVal = new Float64Array(new SharedArrayBuffer(Math.max(1, nnz) * 8));
  for (let p = 0; p < indices.length; p++) if (values[p] !== 0) colPtr[indices[p]! + 1]!++;
  for (let j = 0; j < m; j++) colPtr[j + 1]! += colPtr[j]!;
  const fill = colPtr.slice(0, m);
  let cu = 0;
  for (let u = 0; u < x.nRows; u++) {
    let any = false;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = values[p]!;
      if (v === 0) continue;
      const at = fill[indices[p]!]!++;
      rowIdx[at] = cu;
      colVal[at] = v;
      any = true;
    }
    if (any) cu++;
  }
  // K = (λI + XXᵀ)⁻¹ through the dense inverse (lower triangle from each item's outer product).
  const spd = await SpdMatrix.create(users, { kernel: options.kernel, block: options.block });
  const { a, ld } = spd;
  for (let j = 0; j < m; j++) {
    const start = colPtr[j]!;
    for (let p = start; p < colPtr[j + 1]!; p++) {
      const row = rowIdx[p]! * ld;
      const vp = colVal[p]!;
      for (let q = start; q <= p; q++) a[row + rowIdx[q]!]! += vp * colVal[q]!;
    }
  }
  for (let u = 0; u < users; u++) a[u * ld + u]! += lambda;
  throwIfAborted(options.signal, 'EASE training');
  if (!(await spd.invert(threads, options.signal))) throw notPositiveDefinite();
  spd.mirror();
  // Tᵀ = XᵀK: row j = Σ_{u ∈ column j} x_uj K_u.
  const tt = new Float64Array(new SharedArrayBuffer(m * users * 8));
  const d = new Float64Array(new SharedArrayBuffer(m * 8));
  for (let j = 0; j < m; j++) {
    const out = j * users;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const v = colVal[p]!;
      const row = rowIdx[p]! * ld;
      for (let u = 0; u < users; u++) tt[out + u]! += v * a[row + u]!;
    }
    let s = 0;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) s += colVal[p]! * tt[out + rowIdx[p]!]!;
    d[j] = 1 - s;
    if (!(d[j]! > 0)) throw notPositiveDefinite();
  }
  throwIfAborted(options.signal, 'EASE training');
  const task: DualRowsTask = {
    m,
    users,
    tt,
    colPtr,
    rowIdx,
    colVal,
    d,
    b: new Float32Array(new SharedArrayBuffer(m * m * 4)),
    ctrl: new Int32Array(new SharedArrayBuffer(4)),
  };
  const others: Array<Promise<void>> = [];
  if (threads > 1) {
    const pool = workerPool(threads - 1);
    for (let t = 0; t < threads - 1; t++) others.push(pool.run<void>(t, DUAL_ROWS_TASK, task));
  }
  dualRowsTask(task);
  await Promise.all(others);
  return task.b;
}
