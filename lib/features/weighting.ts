/**
 * Interaction weighting for implicit-feedback models: pure functions from a sparse matrix to a new one with
 * the same (or a filtered) pattern. Rows are whatever the caller's orientation is (users for iALS, items for
 * item-KNN); tf-idf and bm25 treat rows as documents and columns as terms, like implicit's
 * `tfidf_weight` / `bm25_weight`.
 */
import {
  columnCounts,
  filterEntries,
  mapValues,
  rowSums,
  type SparseMatrix,
  type Storage,
} from '../compute/sparse';
import { ConfigError } from '../util/errors';

export type { SparseMatrix, Storage } from '../compute/sparse';

/** Keeps entries with value ≥ threshold and sets them to 1 (threshold 0 keeps every stored entry). */
export function binarize(m: SparseMatrix, threshold = 0, storage: Storage = 'plain'): SparseMatrix {
  if (!Number.isFinite(threshold))
    throw new ConfigError('threshold', `must be a finite number, got ${threshold}`);
  const kept = threshold > 0 ? filterEntries(m, (v) => v >= threshold) : m;
  return mapValues(kept, () => 1, storage);
}

/** Drops entries below `threshold` and keeps the others' values. */
export function dropBelow(m: SparseMatrix, threshold: number): SparseMatrix {
  if (!Number.isFinite(threshold))
    throw new ConfigError('threshold', `must be a finite number, got ${threshold}`);
  return threshold > 0 ? filterEntries(m, (v) => v >= threshold) : m;
}

/** Hu, Koren & Volinsky's linear confidence c = 1 + alpha·r. */
export function linearConfidence(m: SparseMatrix, alpha: number, storage: Storage = 'plain'): SparseMatrix {
  checkNonNegative('alpha', alpha);
  return checked(
    mapValues(m, (r) => 1 + alpha * r, storage),
    'linear confidence 1 + alpha·r',
  );
}

/** Hu, Koren & Volinsky's log confidence c = 1 + alpha·log(1 + r/eps). */
export function logConfidence(
  m: SparseMatrix,
  alpha: number,
  eps: number,
  storage: Storage = 'plain',
): SparseMatrix {
  checkNonNegative('alpha', alpha);
  if (!(eps > 0 && Number.isFinite(eps)))
    throw new ConfigError('eps', `must be a positive number, got ${eps}`);
  return checked(
    mapValues(m, (r) => 1 + alpha * Math.log1p(r / eps), storage),
    'log confidence 1 + alpha·log(1 + r/eps)',
  );
}

/** c = alpha·r: the scaling implicit ≥ 0.5 applies to the matrix passed to its ALS. */
export function scaledValues(m: SparseMatrix, alpha: number, storage: Storage = 'plain'): SparseMatrix {
  checkNonNegative('alpha', alpha);
  return checked(
    mapValues(m, (r) => alpha * r, storage),
    'scaled values alpha·r',
  );
}

/**
 * TF-IDF (implicit's `tfidf_weight`): value·→ sqrt(value)·idf[col], idf[col] = log(N) − log1p(df[col]),
 * N = number of rows, df = number of rows where the column is stored.
 */
export function tfidfWeight(m: SparseMatrix, storage: Storage = 'plain'): SparseMatrix {
  const idf = inverseDocumentFrequency(m);
  return mapValues(m, (v, _r, c) => Math.sqrt(v) * idf[c]!, storage);
}

/**
 * Okapi BM25 (implicit's `bm25_weight`): value → value·(K1 + 1) / (K1·lengthNorm[row] + value)·idf[col],
 * lengthNorm = (1 − B) + B·rowSum / mean(rowSum).
 */
export function bm25Weight(m: SparseMatrix, k1 = 100, b = 0.8, storage: Storage = 'plain'): SparseMatrix {
  checkNonNegative('K1', k1);
  if (!(b >= 0 && b <= 1)) throw new ConfigError('B', `must be in [0, 1], got ${b}`);
  const idf = inverseDocumentFrequency(m);
  const sums = rowSums(m);
  let mean = 0;
  for (let r = 0; r < sums.length; r++) mean += sums[r]!;
  mean = sums.length > 0 ? mean / sums.length : 0;
  const norm = new Float64Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) norm[r] = 1 - b + (mean > 0 ? (b * sums[r]!) / mean : 0);
  return mapValues(m, (v, r, c) => ((v * (k1 + 1)) / (k1 * norm[r]! + v)) * idf[c]!, storage);
}

/** Scales every row to unit L2 norm (empty and all-zero rows stay as they are). */
export function normalizeRows(m: SparseMatrix, storage: Storage = 'plain'): SparseMatrix {
  const inv = new Float64Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) {
    let s = 0;
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) s += m.values[p]! * m.values[p]!;
    inv[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return mapValues(m, (v, r) => v * inv[r]!, storage);
}

/** idf[col] = log(N) − log1p(df[col]) over the rows of m (implicit's definition). */
export function inverseDocumentFrequency(m: SparseMatrix): Float64Array {
  const df = columnCounts(m);
  const logN = Math.log(m.nRows);
  const idf = new Float64Array(m.nCols);
  for (let c = 0; c < m.nCols; c++) idf[c] = logN - Math.log1p(df[c]!);
  return idf;
}

/** How implicit models turn interaction values into confidences. */
export type ConfidenceScheme = 'linear' | 'log' | 'scaled';
/** What an interaction's raw value is before the confidence: its rating, or 1. */
export type ValueScheme = 'binary' | 'rating';

export interface ConfidenceSpec {
  /** 'binary': every kept interaction is 1; 'rating': the rating value. */
  values: ValueScheme;
  /** Interactions with rating below this are dropped first (0 keeps all). */
  threshold: number;
  confidence: ConfidenceScheme;
  alpha: number;
  /** Only for 'log'. */
  eps: number;
}

/** threshold → values → confidence, in one place so models and benchmarks agree. */
export function confidenceMatrix(
  m: SparseMatrix,
  spec: ConfidenceSpec,
  storage: Storage = 'plain',
): SparseMatrix {
  const base = spec.values === 'binary' ? binarize(m, spec.threshold) : dropBelow(m, spec.threshold);
  switch (spec.confidence) {
    case 'linear':
      return linearConfidence(base, spec.alpha, storage);
    case 'log':
      return logConfidence(base, spec.alpha, spec.eps, storage);
    case 'scaled':
      return scaledValues(base, spec.alpha, storage);
  }
}

function checkNonNegative(field: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value)))
    throw new ConfigError(field, `must be a non-negative number, got ${value}`);
}

function checked(m: SparseMatrix, what: string): SparseMatrix {
  for (let p = 0; p < m.values.length; p++) {
    const v = m.values[p]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new ConfigError(
        'weighting',
        `${what} gives ${v} for an interaction with a negative or non-finite value; confidences must be ≥ 0`,
      );
    }
  }
  return m;
}
