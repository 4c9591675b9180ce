import { Rng } from '../../util/rng';

/**
 * Per-feature quantile bins. Bin 0 holds missing values (NaN); bins 1..k hold x ≤ edges[f][b-1] (the last edge is
 * the largest value seen). A split "bin ≤ b" is the raw test "x is NaN or x ≤ edges[f][b-1]".
 */
export interface FeatureBins {
  /** Upper edges of the value bins of each feature. */
  edges: Float64Array[];
  /** Column-major bin indices: bins[f * n + row]. */
  bins: Uint8Array;
  n: number;
  f: number;
}

const SAMPLE = 200_000;

/** Quantile edges (at most maxBins value bins per feature) from the row-major n×f matrix `x`. */
export function binEdges(
  x: Float32Array,
  n: number,
  f: number,
  maxBins: number,
  seed: number,
): Float64Array[] {
  if (!(Number.isInteger(maxBins) && maxBins >= 2 && maxBins <= 255))
    throw new RangeError(`maxBins must be an integer in 2..255, got ${maxBins}`);
  const rows: Int32Array =
    n <= SAMPLE
      ? Int32Array.from({ length: n }, (_, k) => k)
      : new Rng(seed).permutation(n).subarray(0, SAMPLE);
  const values = new Float64Array(rows.length);
  const edges: Float64Array[] = [];
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let k = 0; k < rows.length; k++) {
      const v = x[rows[k]! * f + j]!;
      if (!Number.isNaN(v)) values[m++] = v;
    }
    const sorted = values.subarray(0, m).sort();
    const distinct: number[] = [];
    for (let k = 0; k < m; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]!);
    if (distinct.length <= maxBins) {
      edges.push(Float64Array.from(distinct));
      continue;
    }
    const cut: number[] = [];
    for (let b = 1; b < maxBins; b++) {
      const v = sorted[Math.floor((b * m) / maxBins) - 1]!;
      if (cut.length === 0 || v > cut[cut.length - 1]!) cut.push(v);
    }
    if (sorted[m - 1]! > cut[cut.length - 1]!) cut.push(sorted[m - 1]!);
    edges.push(Float64Array.from(cut));
  }
  return edges;
}

/** Bin index of value v given a feature's edges (binary search for the first edge ≥ v). */
export function binOf(edges: Float64Array, v: number): number {
  if (Number.isNaN(v)) return 0;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  // Values above the largest edge fall into the last bin.
  return Math.min(lo, edges.length - 1) + 1;
}

export function binMatrix(x: Float32Array, n: number, f: number, edges: Float64Array[]): FeatureBins {
  const bins = new Uint8Array(n * f);
  for (let j = 0; j < f; j++) {
    const e = edges[j]!;
    const base = j * n;
    for (let r = 0; r < n; r++) bins[base + r] = e.length === 0 ? 0 : binOf(e, x[r * f + j]!);
  }
  return { edges, bins, n, f };
}
