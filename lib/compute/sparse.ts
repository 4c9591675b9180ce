import type { CompressedRows } from '../data/interactions';
import { searchSorted } from '../util/search-sorted';

/**
 * A sparse matrix in compressed-row form: row r holds indices/values[indptr[r] .. indptr[r+1]), column
 * indices ascending within a row. The same shape serves CSR (rows = users) and CSC (rows = items).
 */
export interface SparseMatrix {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** Storage for the arrays of a new matrix: plain or SharedArrayBuffer-backed (for worker threads). */
export type Storage = 'plain' | 'shared';

export function int32Array(length: number, storage: Storage = 'plain'): Int32Array {
  return storage === 'shared' ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
}

export function float32Array(length: number, storage: Storage = 'plain'): Float32Array {
  return storage === 'shared'
    ? new Float32Array(new SharedArrayBuffer(length * 4))
    : new Float32Array(length);
}

export function float64Array(length: number, storage: Storage = 'plain'): Float64Array {
  return storage === 'shared'
    ? new Float64Array(new SharedArrayBuffer(length * 8))
    : new Float64Array(length);
}

/** Wraps the CSR/CSC layout of `Interactions` (no copy). */
export function fromCompressed(rows: CompressedRows, nRows: number, nCols: number): SparseMatrix {
  return { nRows, nCols, indptr: rows.indptr, indices: rows.indices, values: rows.values };
}

/** A copy with the same pattern and new values (`map(value, row, col)`), in the given storage. */
export function mapValues(
  m: SparseMatrix,
  map: (value: number, row: number, col: number) => number,
  storage: Storage = 'plain',
): SparseMatrix {
  const values = float32Array(m.values.length, storage);
  for (let r = 0; r < m.nRows; r++) {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) values[p] = map(m.values[p]!, r, m.indices[p]!);
  }
  return { ...m, values };
}

/** Copies the arrays of `m` into the given storage (shares them when already there). */
export function toStorage(m: SparseMatrix, storage: Storage): SparseMatrix {
  const isShared = m.indptr.buffer instanceof SharedArrayBuffer;
  if ((storage === 'shared') === isShared) return m;
  const indptr = int32Array(m.indptr.length, storage);
  const indices = int32Array(m.indices.length, storage);
  const values = float32Array(m.values.length, storage);
  indptr.set(m.indptr);
  indices.set(m.indices);
  values.set(m.values);
  return { nRows: m.nRows, nCols: m.nCols, indptr, indices, values };
}

/** The transpose, by a counting sort over columns (rows stay ascending within each new row). */
export function transpose(m: SparseMatrix, storage: Storage = 'plain'): SparseMatrix {
  const nnz = m.indptr[m.nRows]!;
  const indptr = int32Array(m.nCols + 1, storage);
  for (let p = 0; p < nnz; p++) indptr[m.indices[p]! + 1]!++;
  for (let c = 0; c < m.nCols; c++) indptr[c + 1]! += indptr[c]!;
  const next = indptr.slice(0, m.nCols);
  const indices = int32Array(nnz, storage);
  const values = float32Array(nnz, storage);
  for (let r = 0; r < m.nRows; r++) {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      const q = next[m.indices[p]!]!++;
      indices[q] = r;
      values[q] = m.values[p]!;
    }
  }
  return { nRows: m.nCols, nCols: m.nRows, indptr, indices, values };
}

/** Keeps the entries where `keep(value, row, col)` is true. */
export function filterEntries(
  m: SparseMatrix,
  keep: (value: number, row: number, col: number) => boolean,
): SparseMatrix {
  const indptr = new Int32Array(m.nRows + 1);
  let n = 0;
  for (let r = 0; r < m.nRows; r++) {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) if (keep(m.values[p]!, r, m.indices[p]!)) n++;
    indptr[r + 1] = n;
  }
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  n = 0;
  for (let r = 0; r < m.nRows; r++) {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      if (!keep(m.values[p]!, r, m.indices[p]!)) continue;
      indices[n] = m.indices[p]!;
      values[n++] = m.values[p]!;
    }
  }
  return { nRows: m.nRows, nCols: m.nCols, indptr, indices, values };
}

/** Number of stored entries in each column. */
export function columnCounts(m: SparseMatrix): Int32Array {
  const counts = new Int32Array(m.nCols);
  const nnz = m.indptr[m.nRows]!;
  for (let p = 0; p < nnz; p++) counts[m.indices[p]!]!++;
  return counts;
}

/** Sum of the values of each row. */
export function rowSums(m: SparseMatrix): Float64Array {
  const sums = new Float64Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) {
    let s = 0;
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) s += m.values[p]!;
    sums[r] = s;
  }
  return sums;
}

/** True when column `col` is stored in row `row` (binary search; indices ascending). */
export function hasEntry(indptr: Int32Array, indices: Int32Array, row: number, col: number): boolean {
  return searchSorted(indices, col, indptr[row]!, indptr[row + 1]!) >= 0;
}

/**
 * Splits rows 0..n into `parts` contiguous ranges of near-equal cost, where a row costs `perRow` plus its
 * number of entries. The split only balances work: callers must not let results depend on it.
 */
export function balancedRanges(indptr: Int32Array, parts: number, perRow = 0): Array<[number, number]> {
  const n = indptr.length - 1;
  const total = indptr[n]! - indptr[0]! + perRow * n;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let p = 1; p <= parts; p++) {
    const target = (total * p) / parts;
    let end = start;
    if (p === parts) end = n;
    else while (end < n && indptr[end]! - indptr[0]! + perRow * end < target) end++;
    out.push([start, end]);
    start = end;
  }
  return out;
}
