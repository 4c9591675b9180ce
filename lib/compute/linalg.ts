/**
 * Small dense linear algebra on row-major Float64Array matrices (k × k, k up to a few hundred), as needed
 * for per-user / per-item least-squares solves in ALS-type models.
 */

/**
 * In-place Cholesky factorisation A = L Lᵀ of a symmetric positive-definite k × k matrix; the lower
 * triangle of `a` receives L. Returns false when A is not positive definite (a pivot ≤ 0).
 */
export function cholesky(a: Float64Array, k: number): boolean {
  for (let j = 0; j < k; j++) {
    const rowJ = j * k;
    let d = a[rowJ + j]!;
    for (let p = 0; p < j; p++) d -= a[rowJ + p]! * a[rowJ + p]!;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < k; i++) {
      const rowI = i * k;
      let s = a[rowI + j]!;
      for (let p = 0; p < j; p++) s -= a[rowI + p]! * a[rowJ + p]!;
      a[rowI + j] = s * inv;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b in place in `b`, with L from `cholesky`. */
export function choleskySolve(l: Float64Array, k: number, b: Float64Array): void {
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    const row = i * k;
    for (let p = 0; p < i; p++) s -= l[row + p]! * b[p]!;
    b[i] = s / l[row + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < k; p++) s -= l[p * k + i]! * b[p]!;
    b[i] = s / l[i * k + i]!;
  }
}

/**
 * Gram matrix G = Xᵀ X (+ reg·I) of the rows of X (n × k, row-major Float32Array), written to `out` (k × k).
 * Only the lower triangle is accumulated, then mirrored.
 */
export function gram(x: Float32Array, n: number, k: number, out: Float64Array, reg = 0): void {
  out.fill(0);
  for (let r = 0; r < n; r++) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      const xi = x[base + i]!;
      if (xi === 0) continue;
      const row = i * k;
      for (let j = 0; j <= i; j++) out[row + j]! += xi * x[base + j]!;
    }
  }
  for (let i = 0; i < k; i++) {
    out[i * k + i]! += reg;
    for (let j = 0; j < i; j++) out[j * k + i] = out[i * k + j]!;
  }
}
