/**
 * Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp 2011, as in sklearn's
 * TruncatedSVD(algorithm='randomized')): a Gaussian range sketch with power iterations, re-orthonormalised by
 * modified Gram-Schmidt, then the exact SVD of the small projected matrix through a Jacobi eigensolver.
 * Dense matrices here are row-major Float64Array.
 */
import type { CompressedRows } from '../data/interactions';
import { Rng } from '../util/rng';

export interface TruncatedSvd {
  /** nRows × k, orthonormal columns. */
  u: Float64Array;
  /** k singular values, descending. */
  s: Float64Array;
  /** nCols × k, orthonormal columns. */
  v: Float64Array;
  k: number;
}

export interface RsvdOptions {
  oversamples?: number;
  powerIterations?: number;
  seed?: number;
}

/** Y (rows × l) = A (rows × cols, CSR) · X (cols × l). */
function multiply(a: CompressedRows, x: Float64Array, l: number, rows: number): Float64Array {
  const y = new Float64Array(rows * l);
  for (let r = 0; r < rows; r++) {
    const yr = r * l;
    for (let p = a.indptr[r]!; p < a.indptr[r + 1]!; p++) {
      const v = a.values[p]!;
      const xc = a.indices[p]! * l;
      for (let j = 0; j < l; j++) y[yr + j]! += v * x[xc + j]!;
    }
  }
  return y;
}

/** Z (cols × l) = Aᵀ · Y (rows × l). */
function multiplyT(a: CompressedRows, y: Float64Array, l: number, rows: number, cols: number): Float64Array {
  const z = new Float64Array(cols * l);
  for (let r = 0; r < rows; r++) {
    const yr = r * l;
    for (let p = a.indptr[r]!; p < a.indptr[r + 1]!; p++) {
      const v = a.values[p]!;
      const zc = a.indices[p]! * l;
      for (let j = 0; j < l; j++) z[zc + j]! += v * y[yr + j]!;
    }
  }
  return z;
}

/**
 * Orthonormalises the l columns of the n × l matrix in place (modified Gram-Schmidt, two passes);
 * columns that vanish (rank deficiency) become zero.
 */
export function orthonormalize(m: Float64Array, n: number, l: number): void {
  // work on contiguous columns (column-major copy), then write back
  const c = new Float64Array(n * l);
  for (let r = 0; r < n; r++) for (let j = 0; j < l; j++) c[j * n + r] = m[r * l + j]!;
  for (let j = 0; j < l; j++) {
    const cj = j * n;
    let before = 0;
    for (let r = 0; r < n; r++) before += c[cj + r]! ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const ci = i * n;
        let dot = 0;
        for (let r = 0; r < n; r++) dot += c[ci + r]! * c[cj + r]!;
        if (dot === 0) continue;
        for (let r = 0; r < n; r++) c[cj + r]! -= dot * c[ci + r]!;
      }
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += c[cj + r]! ** 2;
    norm = Math.sqrt(norm);
    const inv = norm > 1e-10 * Math.sqrt(before) && norm > 0 ? 1 / norm : 0;
    for (let r = 0; r < n; r++) c[cj + r]! *= inv;
  }
  for (let r = 0; r < n; r++) for (let j = 0; j < l; j++) m[r * l + j] = c[j * n + r]!;
}

/**
 * Eigen-decomposition of a symmetric l × l matrix by cyclic Jacobi rotations: returns eigenvalues (descending)
 * and eigenvectors as the columns of an l × l row-major matrix.
 */
export function symmetricEigen(
  input: Float64Array,
  l: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(l * l);
  for (let i = 0; i < l; i++) v[i * l + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < l; i++) {
      diag += a[i * l + i]! ** 2;
      for (let j = i + 1; j < l; j++) off += a[i * l + j]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < l; p++) {
      for (let q = p + 1; q < l; q++) {
        const apq = a[p * l + q]!;
        if (apq === 0) continue;
        const app = a[p * l + p]!;
        const aqq = a[q * l + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const akp = a[k * l + p]!;
          const akq = a[k * l + q]!;
          a[k * l + p] = c * akp - s * akq;
          a[k * l + q] = s * akp + c * akq;
        }
        for (let k = 0; k < l; k++) {
          const apk = a[p * l + k]!;
          const aqk = a[q * l + k]!;
          a[p * l + k] = c * apk - s * aqk;
          a[q * l + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = v[k * l + p]!;
          const vkq = v[k * l + q]!;
          v[k * l + p] = c * vkp - s * vkq;
          v[k * l + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: l }, (_, i) => i).sort((x, y) => a[y * l + y]! - a[x * l + x]! || x - y);
  const values = new Float64Array(l);
  const vectors = new Float64Array(l * l);
  order.forEach((src, dst) => {
    values[dst] = a[src * l + src]!;
    for (let k = 0; k < l; k++) vectors[k * l + dst] = v[k * l + src]!;
  });
  return { values, vectors };
}

/** Top-k singular triplets of the rows × cols sparse matrix `a` (CSR). */
export function randomizedSvd(
  a: CompressedRows,
  rows: number,
  cols: number,
  k: number,
  options: RsvdOptions = {},
): TruncatedSvd {
  const oversamples = options.oversamples ?? 10;
  const iterations = options.powerIterations ?? 5;
  const l = Math.min(k + oversamples, rows, cols);
  const kk = Math.min(k, l);
  const rng = new Rng(options.seed ?? 0);
  const omega = new Float64Array(cols * l);
  rng.fillNormal(omega);
  let y = multiply(a, omega, l, rows);
  orthonormalize(y, rows, l);
  let z = multiplyT(a, y, l, rows, cols);
  for (let it = 0; it < iterations; it++) {
    orthonormalize(z, cols, l);
    y = multiply(a, z, l, rows);
    orthonormalize(y, rows, l);
    z = multiplyT(a, y, l, rows, cols);
  }
  // z = Aᵀ Q = Bᵀ; B Bᵀ = zᵀ z (l × l)
  const m = new Float64Array(l * l);
  for (let c = 0; c < cols; c++) {
    const zc = c * l;
    for (let i = 0; i < l; i++) {
      const zi = z[zc + i]!;
      if (zi === 0) continue;
      for (let j = 0; j <= i; j++) m[i * l + j]! += zi * z[zc + j]!;
    }
  }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) m[j * l + i] = m[i * l + j]!;
  const { values, vectors } = symmetricEigen(m, l);
  const s = new Float64Array(kk);
  const u = new Float64Array(rows * kk);
  const v = new Float64Array(cols * kk);
  for (let j = 0; j < kk; j++) s[j] = Math.sqrt(Math.max(0, values[j]!));
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < kk; j++) {
      let acc = 0;
      for (let i = 0; i < l; i++) acc += y[r * l + i]! * vectors[i * l + j]!;
      u[r * kk + j] = acc;
    }
  for (let c = 0; c < cols; c++)
    for (let j = 0; j < kk; j++) {
      if (s[j] === 0) continue;
      let acc = 0;
      for (let i = 0; i < l; i++) acc += z[c * l + i]! * vectors[i * l + j]!;
      v[c * kk + j] = acc / s[j]!;
    }
  return { u, s, v, k: kk };
}
