/**
 * The small aggregations figures need, from Interactions and the movie catalogue to plain arrays (typed-array
 * loops, no per-rating objects). Counting per item / user and ratings per year live in lib/features/eda.ts.
 */

import { fromCompressed, type SparseMatrix } from '../compute/sparse';
import type { MovieCatalogue } from '../data/catalogue';
import type { Interactions } from '../data/interactions';
import { studentTTwoSided } from '../eval/distributions';
import { genreCountsByYear, utcYear } from '../features/eda';
import type { GenreYearCounts } from './figures';

/**
 * Ratings per (calendar year of the rating, genre of the rated movie), with all ratings of the year as the
 * denominator: a movie in three genres counts once in each, so a year's shares can add up to more than 100 %.
 */
export function genreRatingsByYear(ratings: Interactions, movies: MovieCatalogue): GenreYearCounts {
  const ts = ratings.timestamps;
  const g = movies.genreNames.length;
  if (!ts || ratings.size === 0)
    return { years: [], genres: movies.genreNames.slice(), counts: [], totals: [] };
  const yearOf = new Int32Array(ratings.size);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < ratings.size; k++) {
    const y = utcYear(ts[k]!);
    yearOf[k] = y;
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  const nYears = hi - lo + 1;
  const counts = new Int32Array(nYears * g);
  const totals = new Int32Array(nYears);
  for (let k = 0; k < ratings.size; k++) {
    const y = yearOf[k]! - lo;
    totals[y]!++;
    const row = movies.rowOfItem[ratings.items[k]!]!;
    for (let p = movies.genreIndptr[row]!; p < movies.genreIndptr[row + 1]!; p++)
      counts[y * g + movies.genreIndices[p]!]!++;
  }
  return {
    years: Array.from({ length: nYears }, (_, i) => lo + i),
    genres: movies.genreNames.slice(),
    counts,
    totals,
  };
}

/** Genres that describe a format rather than content, never chosen as a movie's main genre. */
export const NON_CONTENT_GENRES: readonly string[] = ['IMAX', '(no genres listed)', 'unknown'];

/**
 * One "main genre" per catalogue row, for colouring maps. MovieLens lists a movie's genres alphabetically, so
 * the first one says little (most animated films would be "Adventure"). Rule: the movie's genre that is
 * rarest in the catalogue (the most specific one, e.g. Toy Story → Animation), ignoring format tags like
 * IMAX; ties go to the genre listed first; movies without a content genre get "(none)".
 */
export function mainGenres(movies: MovieCatalogue): string[] {
  const g = movies.genreNames.length;
  const freq = new Int32Array(g);
  for (let p = 0; p < movies.genreIndices.length; p++) freq[movies.genreIndices[p]!]!++;
  const skip = movies.genreNames.map((name) => NON_CONTENT_GENRES.includes(name));
  const out: string[] = new Array(movies.size);
  for (let r = 0; r < movies.size; r++) {
    let best = -1;
    for (let p = movies.genreIndptr[r]!; p < movies.genreIndptr[r + 1]!; p++) {
      const gi = movies.genreIndices[p]!;
      if (skip[gi]) continue;
      if (best < 0 || freq[gi]! < freq[best]!) best = gi;
    }
    out[r] = best < 0 ? '(none)' : movies.genreNames[best]!;
  }
  return out;
}

/** A mean with its two-sided confidence interval (Student's t over the values). */
export interface MeanInterval {
  mean: number;
  lower: number;
  upper: number;
  n: number;
  /** Standard error of the mean. */
  se: number;
}

/** The t value with P(|T| ≥ t) = 1 − level for `df` degrees of freedom (bisection on the t distribution). */
export function studentTQuantile(level: number, df: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  const p = 1 - level;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) > p) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean and `level` (default 95 %) confidence interval of values such as per-user metrics or per-fold scores. */
export function meanConfidenceInterval(values: ArrayLike<number>, level = 0.95): MeanInterval {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, lower: Number.NaN, upper: Number.NaN, n: 0, se: Number.NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  const mean = s / n;
  if (n === 1) return { mean, lower: mean, upper: mean, n, se: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n);
  const half = studentTQuantile(level, n - 1) * se;
  return { mean, lower: mean - half, upper: mean + half, n, se };
}

/** Cosine similarities among the given rows of a factor matrix (n × k row-major): a rows.length² matrix. */
export function cosineSimilarityMatrix(
  factors: Float32Array,
  k: number,
  rows: ArrayLike<number>,
): Float32Array {
  const m = rows.length;
  const norms = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const base = rows[a]! * k;
    let s = 0;
    for (let f = 0; f < k; f++) s += factors[base + f]! * factors[base + f]!;
    norms[a] = Math.sqrt(s);
  }
  const out = new Float32Array(m * m);
  for (let a = 0; a < m; a++) {
    const ab = rows[a]! * k;
    for (let b = a; b < m; b++) {
      const bb = rows[b]! * k;
      let s = 0;
      for (let f = 0; f < k; f++) s += factors[ab + f]! * factors[bb + f]!;
      const v = norms[a]! > 0 && norms[b]! > 0 ? s / (norms[a]! * norms[b]!) : 0;
      out[a * m + b] = v;
      out[b * m + a] = v;
    }
  }
  return out;
}

/**
 * Catalogue movies per (release year, genre), with the number of movies released that year as the denominator
 * (movies without a known year are left out).
 */
export function genreMoviesByReleaseYear(movies: MovieCatalogue): GenreYearCounts {
  const table = genreCountsByYear(movies);
  const totals = new Int32Array(table.years.length);
  const lo = table.years[0] ?? 0;
  for (let r = 0; r < movies.size; r++) if (movies.years[r]) totals[movies.years[r]! - lo]!++;
  return { years: table.years, genres: table.genres, counts: table.counts, totals };
}

/** The ratings as a users × items sparse matrix (CSR, items ascending), the input of the weighting functions. */
export function userItemMatrix(ratings: Interactions): SparseMatrix {
  return fromCompressed(ratings.csr(), ratings.nUsers, ratings.nItems);
}

/** Summary statistics of a set of values (NaN-free input assumed; empty input gives NaNs). */
export interface ValueSummary {
  name: string;
  count: number;
  min: number;
  median: number;
  mean: number;
  p99: number;
  max: number;
}

/** Order statistics of values: the value at quantile q (nearest rank on the sorted copy). */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One summary row per named set of values (e.g. the stored values of differently weighted matrices). */
export function summarizeValues(
  sets: Record<string, ArrayLike<number> | { values: ArrayLike<number> }>,
): ValueSummary[] {
  return Object.entries(sets).map(([name, set]) => {
    // Typed arrays have a `values` method, so test for array-likes first.
    const values =
      ArrayBuffer.isView(set) || Array.isArray(set)
        ? (set as ArrayLike<number>)
        : (set as { values: ArrayLike<number> }).values;
    const sorted = Float64Array.from(values as ArrayLike<number>).sort();
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
    return {
      name,
      count: sorted.length,
      min: sorted.length ? sorted[0]! : Number.NaN,
      median: quantileOfSorted(sorted, 0.5),
      mean: sorted.length ? sum / sorted.length : Number.NaN,
      p99: quantileOfSorted(sorted, 0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    };
  });
}
