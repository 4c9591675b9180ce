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

/** out[i] = userFactors[user] · itemFactors[i] for every item (row-major, k columns). */
export function factorScores(
  userFactors: Float32Array,
  itemFactors: Float32Array,
  k: number,
  user: number,
  out: Float32Array,
): void {
  const ub = user * k;
  const nItems = Math.min(out.length, itemFactors.length / k);
  for (let i = 0; i < nItems; i++) {
    const ib = i * k;
    let s = 0;
    for (let f = 0; f < k; f++) s += userFactors[ub + f]! * itemFactors[ib + f]!;
    out[i] = s;
  }
}

/** Dot product of row a of A and row b of B (both row-major with k columns). */
export function rowDot(a: Float32Array, ai: number, b: Float32Array, bi: number, k: number): number {
  const ab = ai * k;
  const bb = bi * k;
  let s = 0;
  for (let f = 0; f < k; f++) s += a[ab + f]! * b[bb + f]!;
  return s;
}

/**
 * Cosine similarity of row `item` with every row of `factors` (n × k), written to `out` (length n); rows
 * with zero norm get −Infinity so that top-k skips them.
 */
export function cosineToAll(factors: Float32Array, k: number, item: number, out: Float32Array): void {
  const n = factors.length / k;
  const qb = item * k;
  let qn = 0;
  for (let f = 0; f < k; f++) qn += factors[qb + f]! * factors[qb + f]!;
  qn = Math.sqrt(qn);
  for (let i = 0; i < n; i++) {
    const ib = i * k;
    let s = 0;
    let nn = 0;
    for (let f = 0; f < k; f++) {
      const v = factors[ib + f]!;
      s += v * factors[qb + f]!;
      nn += v * v;
    }
    out[i] = qn > 0 && nn > 0 ? s / (qn * Math.sqrt(nn)) : Number.NEGATIVE_INFINITY;
  }
}

/**
 * Blocked in-place Cholesky of a symmetric positive-definite n × n row-major matrix (the lower triangle is
 * read; L is written there and the strict upper triangle is zeroed). Right-looking with `nb`-wide panels, so the
 * O(n³) trailing update streams through cache-sized panels. Returns false when a pivot is not positive.
 */
export function choleskyBlocked(a: Float64Array, n: number, nb = 96): boolean {
  for (let kb = 0; kb < n; kb += nb) {
    const ke = Math.min(n, kb + nb);
    // Diagonal block and the panel below it: inner products over the panel's columns [kb, j).
    for (let j = kb; j < ke; j++) {
      const rj = j * n;
      let d = a[rj + j]!;
      for (let p = kb; p < j; p++) d -= a[rj + p]! * a[rj + p]!;
      if (!(d > 0)) return false;
      const ljj = Math.sqrt(d);
      a[rj + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = i * n;
        let s = a[ri + j]!;
        for (let p = kb; p < j; p++) s -= a[ri + p]! * a[rj + p]!;
        a[ri + j] = s * inv;
      }
    }
    // Trailing update: a[i][j] −= panel_i · panel_j for ke ≤ j ≤ i, four columns j at a time.
    for (let i = ke; i < n; i++) {
      const ri = i * n;
      let j = ke;
      for (; j + 3 <= i; j += 4) {
        const r0 = j * n;
        const r1 = r0 + n;
        const r2 = r1 + n;
        const r3 = r2 + n;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = kb; p < ke; p++) {
          const v = a[ri + p]!;
          s0 += v * a[r0 + p]!;
          s1 += v * a[r1 + p]!;
          s2 += v * a[r2 + p]!;
          s3 += v * a[r3 + p]!;
        }
        a[ri + j]! -= s0;
        a[ri + j + 1]! -= s1;
        a[ri + j + 2]! -= s2;
        a[ri + j + 3]! -= s3;
      }
      for (; j <= i; j++) {
        const rj = j * n;
        let s = 0;
        for (let p = kb; p < ke; p++) s += a[ri + p]! * a[rj + p]!;
        a[ri + j]! -= s;
      }
    }
  }
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
  return true;
}

/**
 * In place W = L⁻¹ for a lower-triangular n × n row-major L with a zero strict upper triangle (as left by
 * `choleskyBlocked`). Row i of W is −(1/L_ii) Σ_{p<i} L_ip W_p (+ 1/L_ii on the diagonal); rows are built in
 * blocks of `nb` so each earlier row of W is read once per block.
 */
export function invertLowerBlocked(a: Float64Array, n: number, nb = 64): void {
  const t = new Float64Array(nb * n);
  for (let ib = 0; ib < n; ib += nb) {
    const ie = Math.min(n, ib + nb);
    t.fill(0);
    // Contributions of the finished rows p < ib, four at a time.
    let p = 0;
    for (; p + 3 < ib; p += 4) {
      const w0 = p * n;
      const len = p + 4;
      for (let i = ib; i < ie; i++) {
        const ri = i * n;
        const c0 = a[ri + p]!;
        const c1 = a[ri + p + 1]!;
        const c2 = a[ri + p + 2]!;
        const c3 = a[ri + p + 3]!;
        const tb = (i - ib) * n;
        for (let c = 0; c < len; c++) {
          t[tb + c]! +=
            c0 * a[w0 + c]! + c1 * a[w0 + n + c]! + c2 * a[w0 + 2 * n + c]! + c3 * a[w0 + 3 * n + c]!;
        }
      }
    }
    for (; p < ib; p++) {
      const w0 = p * n;
      for (let i = ib; i < ie; i++) {
        const c0 = a[i * n + p]!;
        const tb = (i - ib) * n;
        for (let c = 0; c <= p; c++) t[tb + c]! += c0 * a[w0 + c]!;
      }
    }
    // Rows inside the block, in order (row i needs the finished rows ib..i−1).
    for (let i = ib; i < ie; i++) {
      const ri = i * n;
      const tb = (i - ib) * n;
      for (let q = ib; q < i; q++) {
        const c0 = a[ri + q]!;
        const wq = q * n;
        for (let c = 0; c <= q; c++) t[tb + c]! += c0 * a[wq + c]!;
      }
      const inv = 1 / a[ri + i]!;
      for (let c = 0; c < i; c++) a[ri + c] = -t[tb + c]! * inv;
      a[ri + i] = inv;
    }
  }
}

/**
 * out = WᵀW (lower triangle and diagonal; the strict upper triangle is left as is) for a lower-triangular
 * n × n row-major W: out_ij = Σ_{p ≥ i} W_pi W_pj. Rows of `out` are built in blocks of `nb` and every row p of W
 * is read once per block.
 */
export function lowerGramBlocked(w: Float64Array, n: number, out: Float64Array, nb = 64): void {
  for (let ib = 0; ib < n; ib += nb) {
    const ie = Math.min(n, ib + nb);
    for (let i = ib; i < ie; i++) out.fill(0, i * n, i * n + i + 1);
    // Row p contributes to rows i ≤ p of the block: out_i[0..i] += W_pi · W_p[0..i]; rows p go four at a time
    // once they are past the block (then every i of the block takes all four).
    let p = ib;
    for (; p < ie; p++) {
      const wp = p * n;
      for (let i = ib; i <= p; i++) {
        const s = w[wp + i]!;
        if (s === 0) continue;
        const ri = i * n;
        for (let c = 0; c <= i; c++) out[ri + c]! += s * w[wp + c]!;
      }
    }
    for (; p + 3 < n; p += 4) {
      const w0 = p * n;
      const w1 = w0 + n;
      const w2 = w1 + n;
      const w3 = w2 + n;
      for (let i = ib; i < ie; i++) {
        const s0 = w[w0 + i]!;
        const s1 = w[w1 + i]!;
        const s2 = w[w2 + i]!;
        const s3 = w[w3 + i]!;
        const ri = i * n;
        for (let c = 0; c <= i; c++)
          out[ri + c]! += s0 * w[w0 + c]! + s1 * w[w1 + c]! + s2 * w[w2 + c]! + s3 * w[w3 + c]!;
      }
    }
    for (; p < n; p++) {
      const wp = p * n;
      for (let i = ib; i < ie; i++) {
        const s = w[wp + i]!;
        const ri = i * n;
        for (let c = 0; c <= i; c++) out[ri + c]! += s * w[wp + c]!;
      }
    }
  }
}
