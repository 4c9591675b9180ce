/**
 * Item × item weight matrices of the neighbourhood models that score by score(u, ·) = x_u · W (RP3β, SLIM):
 * W as a sparse matrix whose row i lists the items i points to, and the helpers to score with it and to
 * assemble it from per-row pieces computed on worker threads.
 */
import type { SparseMatrix } from './sparse';

/** One worker's rows of W: entries per row, then the rows' (column, weight) entries back to back. */
export interface WeightRows {
  counts: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Concatenates consecutive row pieces (in row order) into an n × n matrix. */
export function assembleRows(n: number, pieces: readonly WeightRows[]): SparseMatrix {
  const indptr = new Int32Array(n + 1);
  let total = 0;
  let row = 0;
  for (const r of pieces) {
    for (let c = 0; c < r.counts.length; c++) {
      total += r.counts[c]!;
      indptr[++row] = total;
    }
  }
  if (row !== n) throw new RangeError(`assembleRows: pieces cover ${row} rows, expected ${n}`);
  const indices = new Int32Array(total);
  const values = new Float32Array(total);
  let at = 0;
  for (const r of pieces) {
    indices.set(r.indices, at);
    values.set(r.values, at);
    at += r.indices.length;
  }
  return { nRows: n, nCols: n, indptr, indices, values };
}

/**
 * out[j] = Σ_q x_q · W[items[q]][j] over a user's items (x: their values, aligned with `items`), accumulated
 * in Float64 in a fixed order (items ascending, each row in its stored order): the same bits on any thread.
 */
export function scoreWithWeights(
  w: SparseMatrix,
  items: Int32Array,
  x: Float32Array | null,
  acc: Float64Array,
  out: Float32Array,
): void {
  acc.fill(0);
  const { indptr, indices, values } = w;
  for (let q = 0; q < items.length; q++) {
    const v = x ? x[q]! : 1;
    if (v === 0) continue;
    const i = items[q]!;
    for (let e = indptr[i]!; e < indptr[i + 1]!; e++) acc[indices[e]!]! += v * values[e]!;
  }
  for (let j = 0; j < out.length; j++) out[j] = acc[j]!;
}

/** x_u · W[:, item] for one item (the same sum as scoreWithWeights, entry by entry). */
export function scoreOneWithWeights(
  w: SparseMatrix,
  items: Int32Array,
  x: Float32Array | null,
  item: number,
): number {
  let s = 0;
  for (let q = 0; q < items.length; q++) {
    const v = x ? x[q]! : 1;
    if (v === 0) continue;
    const i = items[q]!;
    for (let e = w.indptr[i]!; e < w.indptr[i + 1]!; e++) if (w.indices[e] === item) s += v * w.values[e]!;
  }
  return Math.fround(s);
}

export function emptyWeights(n = 0): SparseMatrix {
  return {
    nRows: n,
    nCols: n,
    indptr: new Int32Array(n + 1),
    indices: new Int32Array(0),
    values: new Float32Array(0),
  };
}
