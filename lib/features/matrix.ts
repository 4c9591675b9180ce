/**
 * A dense feature table: `data` is rows × columns, row-major. Row r describes the entity with external id
 * `ids[r]` (movieId / userId) and dense index `index[r]` (item / user index of the ratings, -1 when the entity
 * has no ratings, e.g. an unrated catalogue movie).
 */
export interface FeatureMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly columns: string[];
  readonly ids: Int32Array;
  readonly index: Int32Array;
}

/** A sparse feature table in CSR form (e.g. tag TF-IDF), rows aligned like FeatureMatrix. */
export interface SparseFeatures {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly rows: number;
  readonly columns: string[];
  readonly ids: Int32Array;
  readonly index: Int32Array;
}

/** The value of one named column in row r. */
export function featureValue(m: FeatureMatrix, row: number, column: string): number {
  const c = m.columns.indexOf(column);
  if (c < 0)
    throw new RangeError(`no feature column "${column}" (have ${m.columns.slice(0, 8).join(', ')}…)`);
  return m.data[row * m.columns.length + c]!;
}

/** Row r of a feature matrix as { column: value }. */
export function featureRow(m: FeatureMatrix, row: number): Record<string, number> {
  const out: Record<string, number> = {};
  const w = m.columns.length;
  for (let c = 0; c < w; c++) out[m.columns[c]!] = m.data[row * w + c]!;
  return out;
}

/** The row holding external id `id`, or -1. */
export function rowOfId(m: { ids: Int32Array; rows: number }, id: number): number {
  for (let r = 0; r < m.rows; r++) if (m.ids[r] === id) return r;
  return -1;
}

/** Entries of a sparse row as { column: value }. */
export function sparseRow(m: SparseFeatures, row: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = m.indptr[row]!; k < m.indptr[row + 1]!; k++) out[m.columns[m.indices[k]!]!] = m.values[k]!;
  return out;
}

/** The k largest entries of a sparse row, largest first (ties: lower column first). */
export function topEntries(
  m: SparseFeatures,
  row: number,
  k: number,
): Array<{ column: string; value: number }> {
  const entries: Array<{ column: string; value: number; c: number }> = [];
  for (let p = m.indptr[row]!; p < m.indptr[row + 1]!; p++)
    entries.push({ column: m.columns[m.indices[p]!]!, value: m.values[p]!, c: m.indices[p]! });
  entries.sort((a, b) => b.value - a.value || a.c - b.c);
  return entries.slice(0, k).map(({ column, value }) => ({ column, value }));
}
