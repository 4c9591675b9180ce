/**
 * Neighbourhood similarities for KNN rating models (Surprise's cosine, msd, pearson, pearson_baseline), computed
 * one row at a time with O(n) scratch, never as a dense n × n matrix. A row keeps only positive similarities
 * (Surprise ignores neighbours with sim ≤ 0), sorted by decreasing similarity (ties: lower index first),
 * optionally capped to the `maxNeighbors` most similar.
 */

export type SimilarityName = 'cosine' | 'msd' | 'pearson' | 'pearson-baseline';

/** Rows of x (e.g. items) with their (y, rating) entries, and rows of y with their (x, rating) entries. */
export interface SimilarityInput {
  similarity: SimilarityName;
  nX: number;
  xIndptr: Int32Array;
  xIndices: Int32Array;
  xValues: Float32Array;
  yIndptr: Int32Array;
  yIndices: Int32Array;
  yValues: Float32Array;
  minSupport: number;
  shrinkage: number;
  /** Keep at most this many neighbours per row (0: all positive similarities). */
  maxNeighbors: number;
  /** pearson-baseline: μ and the baselines of x and y. */
  mean: number;
  xBias: Float64Array | null;
  yBias: Float64Array | null;
}

export interface SimilarityRows {
  /** Neighbour count of each row in from..to. */
  counts: Int32Array;
  indices: Int32Array;
  sims: Float32Array;
}

/** Similarity rows from..to (exclusive); deterministic, independent of how rows are split into tasks. */
export function similarityRows(
  input: SimilarityInput,
  from: number,
  to: number,
  upperOnly = false,
): SimilarityRows {
  const { nX, xIndptr, xIndices, xValues, yIndptr, yIndices, yValues, similarity } = input;
  const kind = similarity === 'cosine' ? 0 : similarity === 'msd' ? 1 : similarity === 'pearson' ? 2 : 3;
  // per neighbour x2: [count, Σ…] interleaved, so one cache line serves all sums
  const S = kind === 2 ? 6 : 4;
  const acc = new Float64Array(nX * S);
  const touched = new Int32Array(nX);
  const rowSims = new Float64Array(nX);
  const rowIdx = new Int32Array(nX);
  const keys = new Float64Array(nX);
  if (nX >= LOW) throw new RangeError(`similarity rows support fewer than ${LOW} rows, got ${nX}`);
  const counts = new Int32Array(to - from);
  let outIdx = new Int32Array(1024);
  let outSim = new Float32Array(1024);
  let out = 0;
  const minSupport = similarity === 'pearson-baseline' ? Math.max(2, input.minSupport) : input.minSupport;
  const shrink = input.shrinkage;
  // pearson-baseline works on deviations from the baseline, r − (μ + b_x + b_y): precompute them per rating
  const yDev =
    kind === 3 ? deviations(yIndptr, yIndices, yValues, input.mean, input.yBias!, input.xBias!) : yValues;
  const xDev =
    kind === 3 ? deviations(xIndptr, xIndices, xValues, input.mean, input.xBias!, input.yBias!) : xValues;
  for (let x = from; x < to; x++) {
    let nt = 0;
    for (let p = xIndptr[x]!; p < xIndptr[x + 1]!; p++) {
      const y = xIndices[p]!;
      const rx = xDev[p]!;
      const rx2 = rx * rx;
      const q1 = yIndptr[y + 1]!;
      const q0 = upperOnly ? firstAbove(yIndices, yIndptr[y]!, q1, x) : yIndptr[y]!;
      if (kind === 1) {
        for (let q = q0; q < q1; q++) {
          const x2 = yIndices[q]!;
          const o = x2 * 4;
          if (acc[o] === 0) touched[nt++] = x2;
          const diff = rx - yDev[q]!;
          acc[o]! += 1;
          acc[o + 1]! += diff * diff;
        }
      } else if (kind === 2) {
        for (let q = q0; q < q1; q++) {
          const x2 = yIndices[q]!;
          const r2 = yDev[q]!;
          const o = x2 * 6;
          if (acc[o] === 0) touched[nt++] = x2;
          acc[o]! += 1;
          acc[o + 1]! += rx * r2;
          acc[o + 2]! += rx2;
          acc[o + 3]! += r2 * r2;
          acc[o + 4]! += rx;
          acc[o + 5]! += r2;
        }
      } else {
        // cosine on ratings, pearson-baseline on deviations: the same three sums
        for (let q = q0; q < q1; q++) {
          const x2 = yIndices[q]!;
          const r2 = yDev[q]!;
          const o = x2 * 4;
          if (acc[o] === 0) touched[nt++] = x2;
          acc[o]! += 1;
          acc[o + 1]! += rx * r2;
          acc[o + 2]! += rx2;
          acc[o + 3]! += r2 * r2;
        }
      }
    }
    let kept = 0;
    if (!upperOnly) {
      rowIdx[kept] = x;
      rowSims[kept++] = 1;
    }
    for (let t = 0; t < nt; t++) {
      const x2 = touched[t]!;
      const o = x2 * S;
      const n = acc[o]!;
      let s = 0;
      if (x2 !== x && n >= minSupport) {
        if (kind === 0) {
          const den = Math.sqrt(acc[o + 2]! * acc[o + 3]!);
          s = den > 0 ? acc[o + 1]! / den : 0;
        } else if (kind === 1) s = 1 / (acc[o + 1]! / n + 1);
        else if (kind === 2) {
          const num = n * acc[o + 1]! - acc[o + 4]! * acc[o + 5]!;
          const den = Math.sqrt(
            (n * acc[o + 2]! - acc[o + 4]! * acc[o + 4]!) * (n * acc[o + 3]! - acc[o + 5]! * acc[o + 5]!),
          );
          s = den > 0 ? num / den : 0;
        } else {
          const den = Math.sqrt(acc[o + 2]! * acc[o + 3]!);
          s = den > 0 ? (acc[o + 1]! / den) * ((n - 1) / (n - 1 + shrink)) : 0;
        }
      }
      if (s > 0) {
        rowIdx[kept] = x2;
        rowSims[kept++] = s;
      }
      acc.fill(0, o, o + S);
    }
    const keep =
      !upperOnly && input.maxNeighbors > 0 && kept > input.maxNeighbors ? input.maxNeighbors : kept;
    if (out + keep > outIdx.length) {
      const size = Math.max(out + keep, outIdx.length * 2);
      const ni = new Int32Array(size);
      ni.set(outIdx.subarray(0, out));
      outIdx = ni;
      const ns = new Float32Array(size);
      ns.set(outSim.subarray(0, out));
      outSim = ns;
    }
    if (upperOnly) {
      for (let t = 0; t < kept; t++) {
        outIdx[out + t] = rowIdx[t]!;
        outSim[out + t] = rowSims[t]!;
      }
    } else sortRow(rowIdx, rowSims, kept, keys, keep, outIdx, outSim, out);
    out += keep;
    counts[x - from] = keep;
  }
  return { counts, indices: outIdx.slice(0, out), sims: outSim.slice(0, out) };
}

/** First position in indices[from..to) (ascending) holding a value > x. */
function firstAbove(indices: Int32Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (indices[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Full sorted rows from upper-triangle parts (pairs x < x2 of consecutive row ranges, in order): each pair is
 * mirrored, every row gets itself with similarity 1, and rows are sorted like `similarityRows` does.
 */
export function assembleSymmetric(
  nX: number,
  parts: SimilarityRows[],
): { indptr: Int32Array; indices: Int32Array; sims: Float32Array } {
  const indptr = new Int32Array(nX + 1);
  let x = 0;
  for (const part of parts)
    for (let t = 0, at = 0; t < part.counts.length; t++, x++) {
      const c = part.counts[t]!;
      indptr[x + 1]! += 1 + c;
      for (let e = at; e < at + c; e++) indptr[part.indices[e]! + 1]!++;
      at += c;
    }
  for (let r = 0; r < nX; r++) indptr[r + 1]! += indptr[r]!;
  const nnz = indptr[nX]!;
  const rawIdx = new Int32Array(nnz);
  const rawSim = new Float64Array(nnz);
  const fill = indptr.slice(0, nX);
  for (let r = 0; r < nX; r++) {
    rawIdx[fill[r]!] = r;
    rawSim[fill[r]!++] = 1;
  }
  x = 0;
  for (const part of parts)
    for (let t = 0, at = 0; t < part.counts.length; t++, x++) {
      const c = part.counts[t]!;
      for (let e = at; e < at + c; e++) {
        const x2 = part.indices[e]!;
        const sim = part.sims[e]!;
        rawIdx[fill[x]!] = x2;
        rawSim[fill[x]!++] = sim;
        rawIdx[fill[x2]!] = x;
        rawSim[fill[x2]!++] = sim;
      }
      at += c;
    }
  const indices = new Int32Array(nnz);
  const sims = new Float32Array(nnz);
  let widest = 0;
  for (let r = 0; r < nX; r++) widest = Math.max(widest, indptr[r + 1]! - indptr[r]!);
  const keys = new Float64Array(widest);
  for (let r = 0; r < nX; r++) {
    const a = indptr[r]!;
    const n = indptr[r + 1]! - a;
    sortRow(rawIdx.subarray(a, a + n), rawSim.subarray(a, a + n), n, keys, n, indices, sims, a);
  }
  return { indptr, indices, sims };
}

/** r − (μ + rowBias[row] + colBias[col]) for every stored rating of a CSR layout. */
function deviations(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  mu: number,
  rowBias: Float64Array,
  colBias: Float64Array,
): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r + 1 < indptr.length; r++) {
    const base = mu + rowBias[r]!;
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) out[p] = values[p]! - base - colBias[indices[p]!]!;
  }
  return out;
}

const LOW = 2 ** 22;
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);

/**
 * Writes the `keep` most similar of the n (index, similarity) pairs to outIdx/outSim at `at`, by decreasing
 * float32 similarity, ties by lower index. Positive float32 bit patterns order like the values, so
 * (bits · 2²² + (2²² − 1 − index)) is one exact float64 key and a native typed-array sort does the work.
 */
function sortRow(
  idx: Int32Array,
  sims: Float64Array,
  n: number,
  keys: Float64Array,
  keep: number,
  outIdx: Int32Array,
  outSim: Float32Array,
  at: number,
): void {
  for (let t = 0; t < n; t++) {
    bitsF32[0] = sims[t]!;
    keys[t] = bitsU32[0]! * LOW + (LOW - 1 - idx[t]!);
  }
  const sorted = keys.subarray(0, n).sort();
  for (let t = 0; t < keep; t++) {
    const key = sorted[n - 1 - t]!;
    const bits = Math.floor(key / LOW);
    bitsU32[0] = bits;
    outIdx[at + t] = LOW - 1 - (key - bits * LOW);
    outSim[at + t] = bitsF32[0]!;
  }
}

/** Worker task: rows from..to of a similarity matrix. */
export function similarityRowsTask(payload: {
  input: SimilarityInput;
  from: number;
  to: number;
  upperOnly: boolean;
}): SimilarityRows {
  return similarityRows(payload.input, payload.from, payload.to, payload.upperOnly);
}

/** This module's path, for worker tasks. */
export const KNN_TASK_MODULE = __filename;
