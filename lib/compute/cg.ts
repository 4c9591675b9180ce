/**
 * Per-row least-squares solves of implicit ALS (Hu, Koren & Volinsky 2008), on typed arrays:
 *
 *   x_u = argmin Σ_i c_ui (p_ui − x·y_i)² + λ‖x‖²   ⇔   (YᵀY + λI + Σ_{i∈u} (c_ui − 1) y_i y_iᵀ) x = Σ_{i∈u} c_ui y_i
 *
 * Both solvers use YᵀY + λI (precomputed once per half-iteration) plus a sparse correction over the row's
 * items, so a row costs O(k² + n_u·k) for CG (Takács, Pilászy & Tikk 2011; implicit's `least_squares_cg`)
 * and O(k³ + n_u·k²) for the exact Cholesky solve. Rows are independent: any split of rows over threads gives
 * bit-identical factors. Stored entries are positive preferences (p = 1) with confidence c = value.
 */
import { cholesky, choleskySolve } from './linalg';

export interface AlsSide {
  /** Rows to solve (users, or items for the other half): entries are the confidences c_ui. */
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** Factors being solved, rows × k (also the CG warm start). */
  x: Float32Array;
  /** Fixed factors of the other side, n × k. */
  y: Float32Array;
  /** YᵀY + λI, k × k row-major. */
  yty: Float64Array;
  k: number;
}

/** Squared-residual threshold below which CG stops (implicit's 1e-20). */
const CG_EPS = 1e-20;

/** `steps` conjugate-gradient steps per row in [start, end), warm-started from the current x. */
export function cgSolveRows(side: AlsSide, start: number, end: number, steps: number): void {
  const { indptr, indices, values, x, y, yty, k } = side;
  const xu = new Float64Array(k);
  const r = new Float64Array(k);
  const p = new Float64Array(k);
  const ap = new Float64Array(k);
  for (let u = start; u < end; u++) {
    const from = indptr[u]!;
    const to = indptr[u + 1]!;
    const xb = u * k;
    if (from === to) {
      x.fill(0, xb, xb + k);
      continue;
    }
    for (let f = 0; f < k; f++) xu[f] = x[xb + f]!;
    // r = b − A x = Σ c y_i − (YᵀY + λI) x − Σ (c − 1)(y_i·x) y_i
    symv(yty, k, xu, r, -1);
    for (let q = from; q < to; q++) {
      const c = values[q]!;
      const yb = indices[q]! * k;
      const t = c - (c - 1) * dotF32(y, yb, xu, k);
      axpyF32(t, y, yb, r, k);
    }
    let rsold = dot64(r, r, k);
    if (rsold < CG_EPS) continue;
    for (let f = 0; f < k; f++) p[f] = r[f]!;
    for (let it = 0; it < steps; it++) {
      symv(yty, k, p, ap, 1);
      for (let q = from; q < to; q++) {
        const c = values[q]!;
        const yb = indices[q]! * k;
        axpyF32((c - 1) * dotF32(y, yb, p, k), y, yb, ap, k);
      }
      const alpha = rsold / dot64(p, ap, k);
      for (let f = 0; f < k; f++) {
        xu[f]! += alpha * p[f]!;
        r[f]! -= alpha * ap[f]!;
      }
      const rsnew = dot64(r, r, k);
      if (rsnew < CG_EPS) break;
      const beta = rsnew / rsold;
      for (let f = 0; f < k; f++) p[f] = r[f]! + beta * p[f]!;
      rsold = rsnew;
    }
    for (let f = 0; f < k; f++) x[xb + f] = xu[f]!;
  }
}

/** Exact solves by Cholesky of the k × k normal equations, rows in [start, end). */
export function choleskySolveRows(side: AlsSide, start: number, end: number): void {
  const { indptr, indices, values, x, y, yty, k } = side;
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let u = start; u < end; u++) {
    const from = indptr[u]!;
    const to = indptr[u + 1]!;
    const xb = u * k;
    if (from === to) {
      x.fill(0, xb, xb + k);
      continue;
    }
    a.set(yty);
    b.fill(0);
    for (let q = from; q < to; q++) {
      const c = values[q]!;
      const yb = indices[q]! * k;
      axpyF32(c, y, yb, b, k);
      const w = c - 1;
      if (w === 0) continue;
      for (let f = 0; f < k; f++) {
        const t = w * y[yb + f]!;
        const row = f * k;
        for (let g = 0; g <= f; g++) a[row + g]! += t * y[yb + g]!;
      }
    }
    for (let f = 0; f < k; f++) for (let g = 0; g < f; g++) a[g * k + f] = a[f * k + g]!;
    if (!cholesky(a, k)) {
      throw new RangeError(
        `iALS: the normal equations of row ${u} are not positive definite; increase regularization`,
      );
    }
    choleskySolve(a, k, b);
    for (let f = 0; f < k; f++) x[xb + f] = b[f]!;
  }
}

/**
 * Unnormalised pieces of the iALS objective over rows [start, end) (implicit's `calculate_loss`):
 * loss = Σ_u [Σ_i c_ui (1 − s)² over stored + Σ_unstored s²] computed as Σ_u xᵀYᵀYx + Σ_i (c − 2c s + (c − 1)s²),
 * plus Σ c and Σ‖x_u‖². `yty` here must be YᵀY without the regularisation.
 */
export function alsLossRows(
  side: AlsSide,
  start: number,
  end: number,
): { loss: number; confidence: number; norm: number } {
  const { indptr, indices, values, x, y, yty, k } = side;
  const xu = new Float64Array(k);
  const tmp = new Float64Array(k);
  let loss = 0;
  let confidence = 0;
  let norm = 0;
  for (let u = start; u < end; u++) {
    const xb = u * k;
    for (let f = 0; f < k; f++) xu[f] = x[xb + f]!;
    symv(yty, k, xu, tmp, 1);
    loss += dot64(tmp, xu, k);
    norm += dot64(xu, xu, k);
    for (let q = indptr[u]!; q < indptr[u + 1]!; q++) {
      const c = values[q]!;
      const s = dotF32(y, indices[q]! * k, xu, k);
      loss += c - 2 * c * s + (c - 1) * s * s;
      confidence += c;
    }
  }
  return { loss, confidence, norm };
}

/** out = scale · A v for a symmetric k × k row-major A. */
function symv(a: Float64Array, k: number, v: Float64Array, out: Float64Array, scale: number): void {
  for (let f = 0; f < k; f++) {
    const row = f * k;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let g = 0;
    for (; g + 3 < k; g += 4) {
      s0 += a[row + g]! * v[g]!;
      s1 += a[row + g + 1]! * v[g + 1]!;
      s2 += a[row + g + 2]! * v[g + 2]!;
      s3 += a[row + g + 3]! * v[g + 3]!;
    }
    for (; g < k; g++) s0 += a[row + g]! * v[g]!;
    out[f] = scale * (s0 + s1 + (s2 + s3));
  }
}

/** y[yb .. yb+k) · v */
function dotF32(y: Float32Array, yb: number, v: Float64Array, k: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let g = 0;
  for (; g + 3 < k; g += 4) {
    s0 += y[yb + g]! * v[g]!;
    s1 += y[yb + g + 1]! * v[g + 1]!;
    s2 += y[yb + g + 2]! * v[g + 2]!;
    s3 += y[yb + g + 3]! * v[g + 3]!;
  }
  for (; g < k; g++) s0 += y[yb + g]! * v[g]!;
  return s0 + s1 + (s2 + s3);
}

/** out += t · y[yb .. yb+k) */
function axpyF32(t: number, y: Float32Array, yb: number, out: Float64Array, k: number): void {
  let g = 0;
  for (; g + 3 < k; g += 4) {
    out[g]! += t * y[yb + g]!;
    out[g + 1]! += t * y[yb + g + 1]!;
    out[g + 2]! += t * y[yb + g + 2]!;
    out[g + 3]! += t * y[yb + g + 3]!;
  }
  for (; g < k; g++) out[g]! += t * y[yb + g]!;
}

function dot64(a: Float64Array, b: Float64Array, k: number): number {
  let s = 0;
  for (let f = 0; f < k; f++) s += a[f]! * b[f]!;
  return s;
}
