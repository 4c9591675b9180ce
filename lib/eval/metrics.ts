/**
 * Evaluation metrics as pure functions on typed arrays.
 *
 * Conventions shared by the ranking metrics:
 * - A user's ranked list is an Int32Array of item indices, best first; it may be shorter than K (then the
 *   missing positions count as misses). Only its first K entries are used.
 * - A user's relevant items are an Int32Array sorted ascending (items held out for the user whose rating
 *   passes the relevance threshold, minus the user's training items, which can never be recommended).
 * - Per-user functions need at least one relevant item; batch functions leave users without relevant items
 *   out of the mean and report how many were left out (`excluded`), as implicit's ranking_metrics_at_k does.
 * - The binary-gain definitions of NDCG@K and MAP@K are exactly those of implicit 0.7
 *   (`ranking_metrics_at_k`), so the benchmark compares like with like. Precision@K is the standard hits / K
 *   (implicit's "precision" is Σ hits / Σ min(K, |relevant|) over users: see `implicitPrecision`).
 * Empty inputs, K ≤ 0 and NaN throw MetricInputError: a metric is never NaN.
 */
import type { MovieCatalogue } from '../data/catalogue';
import { ReelabError } from '../util/errors';
import { searchSorted } from '../util/search-sorted';

/** Error for metric inputs that would otherwise yield NaN. */
export class MetricInputError extends ReelabError {}

function checkPairs(name: string, actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
  if (actual.length !== predicted.length) {
    throw new MetricInputError(`${name}: ${actual.length} true values but ${predicted.length} predictions`);
  }
  if (actual.length === 0) throw new MetricInputError(`${name}: no ratings to evaluate (empty input)`);
}

/** Root mean squared error: sqrt(mean((actual - predicted)²)). Throws on empty input or NaN values. */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('rmse', actual, predicted);
  let s = 0;
  for (let k = 0; k < actual.length; k++) {
    const e = actual[k]! - predicted[k]!;
    if (Number.isNaN(e)) throw new MetricInputError(`rmse: NaN at position ${k}`);
    s += e * e;
  }
  return Math.sqrt(s / actual.length);
}

/** Mean absolute error: mean(|actual - predicted|). Throws on empty input or NaN values. */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('mae', actual, predicted);
  let s = 0;
  for (let k = 0; k < actual.length; k++) {
    const e = Math.abs(actual[k]! - predicted[k]!);
    if (Number.isNaN(e)) throw new MetricInputError(`mae: NaN at position ${k}`);
    s += e;
  }
  return s / actual.length;
}

// ---------------------------------------------------------------------------------------------------------
// One user's ranked list

function checkK(name: string, k: number): void {
  if (!(Number.isInteger(k) && k >= 1))
    throw new MetricInputError(`${name}: K must be a positive integer, got ${k}`);
}

function checkRelevant(name: string, relevant: Int32Array): void {
  if (relevant.length === 0)
    throw new MetricInputError(`${name}: the user has no relevant items (undefined; leave the user out)`);
}

/** Index of `item` in the ascending array `sorted`, or -1. */
export function indexOfSorted(sorted: Int32Array, item: number): number {
  return searchSorted(sorted, item);
}

/** Number of relevant items among the first min(K, |list|) entries of the list. */
export function hitsAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkK('hits@K', k);
  const n = Math.min(k, list.length);
  let hits = 0;
  for (let j = 0; j < n; j++) if (indexOfSorted(relevant, list[j]!) >= 0) hits++;
  return hits;
}

/** Precision@K = hits@K / K (a list shorter than K is not given a smaller denominator). */
export function precisionAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('precision@K', relevant);
  return hitsAtK(list, relevant, k) / k;
}

/** Recall@K = hits@K / |relevant| (the standard denominator, not min(K, |relevant|)). */
export function recallAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('recall@K', relevant);
  return hitsAtK(list, relevant, k) / relevant.length;
}

/** Discount of 0-based position j: 1 / log2(j + 2). */
export function discount(j: number): number {
  return 1 / Math.log2(j + 2);
}

/**
 * NDCG@K with binary gain: DCG = Σ_{j<K, list[j] relevant} 1/log2(j+2), divided by the ideal
 * IDCG = Σ_{j<min(K, |relevant|)} 1/log2(j+2). (implicit's definition.)
 */
export function ndcgAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('ndcg@K', relevant);
  checkK('ndcg@K', k);
  const n = Math.min(k, list.length);
  let dcg = 0;
  for (let j = 0; j < n; j++) if (indexOfSorted(relevant, list[j]!) >= 0) dcg += discount(j);
  let idcg = 0;
  const ideal = Math.min(k, relevant.length);
  for (let j = 0; j < ideal; j++) idcg += discount(j);
  return dcg / idcg;
}

/**
 * NDCG@K with graded (linear) gain: gain(item) = gains[index of item in relevant] (e.g. the held-out rating),
 * 0 for items that are not relevant; DCG = Σ_{j<K} gain(list[j]) / log2(j+2); IDCG is the DCG of the
 * relevant items sorted by gain, best first. Gains must be positive and finite.
 */
export function gradedNdcgAtK(
  list: Int32Array,
  relevant: Int32Array,
  gains: ArrayLike<number>,
  k: number,
): number {
  checkRelevant('ndcg-graded@K', relevant);
  checkK('ndcg-graded@K', k);
  if (gains.length !== relevant.length)
    throw new MetricInputError(`ndcg-graded@K: ${gains.length} gains for ${relevant.length} relevant items`);
  const sorted = new Float64Array(gains.length);
  for (let j = 0; j < gains.length; j++) {
    const g = gains[j]!;
    if (!(g > 0 && g < Number.POSITIVE_INFINITY))
      throw new MetricInputError(
        `ndcg-graded@K: gain ${g} of item ${relevant[j]} is not positive and finite`,
      );
    sorted[j] = g;
  }
  sorted.sort();
  const n = Math.min(k, list.length);
  let dcg = 0;
  for (let j = 0; j < n; j++) {
    const at = indexOfSorted(relevant, list[j]!);
    if (at >= 0) dcg += gains[at]! * discount(j);
  }
  let idcg = 0;
  const ideal = Math.min(k, sorted.length);
  for (let j = 0; j < ideal; j++) idcg += sorted[sorted.length - 1 - j]! * discount(j);
  return dcg / idcg;
}

/**
 * AP@K = (Σ_{j<K, list[j] relevant} hits@(j+1) / (j+1)) / min(K, |relevant|): the mean of precision at each
 * hit, normalised by the most hits the list could have (implicit's MAP@K per user).
 */
export function averagePrecisionAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('map@K', relevant);
  checkK('map@K', k);
  const n = Math.min(k, list.length);
  let hits = 0;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    if (indexOfSorted(relevant, list[j]!) >= 0) {
      hits++;
      sum += hits / (j + 1);
    }
  }
  return sum / Math.min(k, relevant.length);
}

/** Reciprocal rank truncated at K: 1 / (position of the first relevant item, 1-based) if within K, else 0. */
export function reciprocalRankAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('mrr@K', relevant);
  checkK('mrr@K', k);
  const n = Math.min(k, list.length);
  for (let j = 0; j < n; j++) if (indexOfSorted(relevant, list[j]!) >= 0) return 1 / (j + 1);
  return 0;
}

/** Hit rate@K: 1 when at least one relevant item is in the first K, else 0. */
export function hitRateAtK(list: Int32Array, relevant: Int32Array, k: number): number {
  checkRelevant('hr@K', relevant);
  return hitsAtK(list, relevant, k) > 0 ? 1 : 0;
}

/**
 * AUC of one user: the fraction of (relevant, non-relevant) pairs in which the relevant item scores higher,
 * ties counting ½ (Mann–Whitney). Untruncated: every candidate item takes part.
 */
export function auc(positiveScores: ArrayLike<number>, negativeScores: ArrayLike<number>): number {
  if (positiveScores.length === 0 || negativeScores.length === 0)
    throw new MetricInputError(
      `auc: needs at least one relevant and one non-relevant item (got ${positiveScores.length} and ${negativeScores.length})`,
    );
  const pos = Float64Array.from(positiveScores);
  const neg = Float64Array.from(negativeScores);
  for (const [what, a] of [
    ['relevant', pos],
    ['non-relevant', neg],
  ] as const)
    for (let j = 0; j < a.length; j++)
      if (Number.isNaN(a[j])) throw new MetricInputError(`auc: NaN ${what} score`);
  pos.sort();
  neg.sort();
  // For each positive (ascending) count negatives below and equal with two moving pointers.
  let below = 0;
  let upTo = 0;
  let wins = 0;
  for (let p = 0; p < pos.length; p++) {
    const s = pos[p]!;
    while (below < neg.length && neg[below]! < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < neg.length && neg[upTo]! === s) upTo++;
    wins += below + 0.5 * (upTo - below);
  }
  return wins / (pos.length * neg.length);
}

// ---------------------------------------------------------------------------------------------------------
// Many users

/** Users' ranked lists: row r (user `users[r]`) holds items[r·k .. r·k + counts[r]), best first. */
export interface RankedLists {
  users: Int32Array;
  k: number;
  items: Int32Array;
  counts: Int32Array;
}

/** Relevant items per user (indexed by user): indices[indptr[u] .. indptr[u+1]) ascending, optional gains. */
export interface RelevantSets {
  indptr: Int32Array;
  indices: Int32Array;
  /** Graded gain of each relevant item (same positions as `indices`), e.g. the held-out rating. */
  gains?: Float32Array | null;
}

/** Per-user values of a metric and their mean. */
export interface PerUserMetric {
  name: string;
  /** Users that have a value (rows of the lists' users, in list order). */
  users: Int32Array;
  values: Float64Array;
  mean: number;
  /** Users left out (no relevant items, or for diversity a list shorter than 2). */
  excluded: number;
}

export type ListMetric = 'precision' | 'recall' | 'ndcg' | 'ndcg-graded' | 'map' | 'mrr' | 'hr';

/** Mean of `values`; throws when there is none. */
export function meanOf(name: string, values: Float64Array, why = 'no users to average over'): number {
  if (values.length === 0) throw new MetricInputError(`${name}: ${why}`);
  let s = 0;
  for (let j = 0; j < values.length; j++) s += values[j]!;
  return s / values.length;
}

function rowList(lists: RankedLists, r: number): Int32Array {
  return lists.items.subarray(r * lists.k, r * lists.k + lists.counts[r]!);
}

function checkLists(name: string, lists: RankedLists, k: number): void {
  checkK(name, k);
  if (lists.users.length === 0) throw new MetricInputError(`${name}: no users to evaluate (empty input)`);
  if (k > lists.k) throw new MetricInputError(`${name}: lists hold ${lists.k} items, fewer than K = ${k}`);
}

/**
 * A list-based accuracy metric (see the single-user functions) for every user with at least one relevant
 * item; users without relevant items are left out of the mean and counted in `excluded`.
 */
export function listMetric(
  name: string,
  metric: ListMetric,
  k: number,
  lists: RankedLists,
  relevant: RelevantSets,
): PerUserMetric {
  checkLists(name, lists, k);
  const users: number[] = [];
  const values: number[] = [];
  let excluded = 0;
  for (let r = 0; r < lists.users.length; r++) {
    const u = lists.users[r]!;
    const from = relevant.indptr[u]!;
    const to = relevant.indptr[u + 1]!;
    if (to === from) {
      excluded++;
      continue;
    }
    const rel = relevant.indices.subarray(from, to);
    const list = rowList(lists, r);
    let v: number;
    switch (metric) {
      case 'precision':
        v = precisionAtK(list, rel, k);
        break;
      case 'recall':
        v = recallAtK(list, rel, k);
        break;
      case 'ndcg':
        v = ndcgAtK(list, rel, k);
        break;
      case 'ndcg-graded':
        if (!relevant.gains) throw new MetricInputError(`${name}: graded NDCG needs gains`);
        v = gradedNdcgAtK(list, rel, relevant.gains.subarray(from, to), k);
        break;
      case 'map':
        v = averagePrecisionAtK(list, rel, k);
        break;
      case 'mrr':
        v = reciprocalRankAtK(list, rel, k);
        break;
      case 'hr':
        v = hitRateAtK(list, rel, k);
        break;
    }
    users.push(u);
    values.push(v);
  }
  const vals = Float64Array.from(values);
  return {
    name,
    users: Int32Array.from(users),
    values: vals,
    mean: meanOf(name, vals, `none of the ${lists.users.length} users has a relevant item`),
    excluded,
  };
}

/**
 * implicit's "precision" (ranking_metrics_at_k): Σ_users hits@K / Σ_users min(K, |relevant|) over users
 * with relevant items — a micro-averaged, capped recall rather than precision; kept for cross-checks.
 */
export function implicitPrecision(k: number, lists: RankedLists, relevant: RelevantSets): number {
  checkLists('implicit precision', lists, k);
  let hits = 0;
  let denominator = 0;
  for (let r = 0; r < lists.users.length; r++) {
    const u = lists.users[r]!;
    const rel = relevant.indices.subarray(relevant.indptr[u]!, relevant.indptr[u + 1]!);
    if (rel.length === 0) continue;
    hits += hitsAtK(rowList(lists, r), rel, k);
    denominator += Math.min(k, rel.length);
  }
  if (denominator === 0) throw new MetricInputError('implicit precision: no user has a relevant item');
  return hits / denominator;
}

/**
 * Per-user values from precomputed per-user numbers (e.g. full-ranking ranks): value = numerator[r] /
 * denominator[r] for rows with a positive denominator (others excluded).
 */
export function ratioMetric(
  name: string,
  users: Int32Array,
  numerator: Float64Array,
  denominator: Float64Array,
): PerUserMetric {
  if (users.length === 0) throw new MetricInputError(`${name}: no users to evaluate (empty input)`);
  const us: number[] = [];
  const vs: number[] = [];
  let excluded = 0;
  for (let r = 0; r < users.length; r++) {
    const d = denominator[r]!;
    if (!(d > 0)) {
      excluded++;
      continue;
    }
    us.push(users[r]!);
    vs.push(numerator[r]! / d);
  }
  const values = Float64Array.from(vs);
  return {
    name,
    users: Int32Array.from(us),
    values,
    mean: meanOf(name, values, `none of the ${users.length} users has a value`),
    excluded,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Beyond accuracy: coverage, novelty, diversity, popularity bias

/** Fraction of the catalogue (`nItems` items) that appears in at least one user's first K items. */
export function catalogueCoverage(lists: RankedLists, nItems: number, k: number): number {
  checkLists('coverage', lists, k);
  if (!(Number.isInteger(nItems) && nItems >= 1))
    throw new MetricInputError(`coverage: catalogue size must be a positive integer, got ${nItems}`);
  const seen = new Uint8Array(nItems);
  let distinct = 0;
  for (let r = 0; r < lists.users.length; r++) {
    const list = rowList(lists, r);
    const n = Math.min(k, list.length);
    for (let j = 0; j < n; j++) {
      const i = list[j]!;
      if (!(i >= 0 && i < nItems))
        throw new MetricInputError(`coverage: item ${i} is outside 0..${nItems - 1}`);
      if (seen[i] === 0) {
        seen[i] = 1;
        distinct++;
      }
    }
  }
  return distinct / nItems;
}

function perUserOverList(
  name: string,
  lists: RankedLists,
  k: number,
  minLength: number,
  value: (list: Int32Array) => number,
): PerUserMetric {
  checkLists(name, lists, k);
  const us: number[] = [];
  const vs: number[] = [];
  let excluded = 0;
  for (let r = 0; r < lists.users.length; r++) {
    const full = rowList(lists, r);
    const list = full.subarray(0, Math.min(k, full.length));
    if (list.length < minLength) {
      excluded++;
      continue;
    }
    us.push(lists.users[r]!);
    vs.push(value(list));
  }
  const values = Float64Array.from(vs);
  return {
    name,
    users: Int32Array.from(us),
    values,
    mean: meanOf(name, values, `no user has a list of at least ${minLength} items`),
    excluded,
  };
}

/**
 * Novelty@K: per user, the mean self-information −log2(p_i) of the first K items, where p_i = (training
 * users who interacted with i) / (training users); an item nobody interacted with counts as one user (so
 * the value stays finite). Mean over users with a non-empty list. `itemUsers[i]` = users of item i.
 */
export function novelty(lists: RankedLists, itemUsers: Int32Array, nUsers: number, k: number): PerUserMetric {
  if (!(nUsers >= 1))
    throw new MetricInputError(`novelty: number of training users must be ≥ 1, got ${nUsers}`);
  const info = new Float64Array(itemUsers.length);
  for (let i = 0; i < itemUsers.length; i++) info[i] = -Math.log2(Math.max(1, itemUsers[i]!) / nUsers);
  return perUserOverList(`novelty@${k}`, lists, k, 1, (list) => {
    let s = 0;
    for (let j = 0; j < list.length; j++) s += info[list[j]!]!;
    return s / list.length;
  });
}

/**
 * Popularity percentile of every item from its interaction count, mid-rank convention:
 * (items with a lower count + ½ · items with the same count) / items, in [0, 1); 0.5 ≈ the median item.
 */
export function popularityPercentiles(itemUsers: Int32Array): Float64Array {
  const n = itemUsers.length;
  if (n === 0) throw new MetricInputError('popularity: empty catalogue');
  let max = 0;
  for (let i = 0; i < n; i++) {
    const c = itemUsers[i]!;
    if (c < 0) throw new MetricInputError(`popularity: negative count at item ${i}`);
    if (c > max) max = c;
  }
  const histogram = new Float64Array(max + 1);
  for (let i = 0; i < n; i++) histogram[itemUsers[i]!]!++;
  const below = new Float64Array(max + 1);
  for (let c = 1; c <= max; c++) below[c] = below[c - 1]! + histogram[c - 1]!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = itemUsers[i]!;
    out[i] = (below[c]! + 0.5 * histogram[c]!) / n;
  }
  return out;
}

/** Popularity bias@K: per user, the mean popularity percentile (`popularityPercentiles`) of the first K items. */
export function popularityBias(lists: RankedLists, itemUsers: Int32Array, k: number): PerUserMetric {
  const pct = popularityPercentiles(itemUsers);
  return perUserOverList(`popularity-bias@${k}`, lists, k, 1, (list) => {
    let s = 0;
    for (let j = 0; j < list.length; j++) s += pct[list[j]!]!;
    return s / list.length;
  });
}

/**
 * Genres per item index, as the movie catalogue holds them (lib/data/catalogue `MovieCatalogue` fits, and is
 * what workflows pass): item i's genres are genreIndices[genreIndptr[r] .. genreIndptr[r+1]) of its catalogue
 * row r = rowOfItem[i] (an item without a row, r < 0, has no genres).
 */
export type ItemGenreSets = Pick<MovieCatalogue, 'genreIndptr' | 'genreIndices' | 'rowOfItem'>;

/**
 * Genre distance of two items: 1 − Jaccard(genres_a, genres_b) = 1 − |a ∩ b| / |a ∪ b|; two items without
 * any genre are at distance 0, one without genres and one with are at distance 1. A row's genres are distinct
 * (any order).
 */
export function genreDistance(genres: ItemGenreSets, a: number, b: number): number {
  const ra = genres.rowOfItem[a] ?? -1;
  const rb = genres.rowOfItem[b] ?? -1;
  const p0 = ra >= 0 ? genres.genreIndptr[ra]! : 0;
  const pEnd = ra >= 0 ? genres.genreIndptr[ra + 1]! : 0;
  const q0 = rb >= 0 ? genres.genreIndptr[rb]! : 0;
  const qEnd = rb >= 0 ? genres.genreIndptr[rb + 1]! : 0;
  const union0 = pEnd - p0 + (qEnd - q0);
  if (union0 === 0) return 0;
  let common = 0;
  for (let p = p0; p < pEnd; p++) {
    const x = genres.genreIndices[p]!;
    for (let q = q0; q < qEnd; q++)
      if (genres.genreIndices[q] === x) {
        common++;
        break;
      }
  }
  return 1 - common / (union0 - common);
}

/**
 * Intra-list diversity@K over genres: per user, the mean `genreDistance` over all pairs of the first K
 * items. Users whose list has fewer than 2 items are left out (no pair) and counted in `excluded`.
 */
export function intraListDiversity(lists: RankedLists, genres: ItemGenreSets, k: number): PerUserMetric {
  return perUserOverList(`diversity@${k}`, lists, k, 2, (list) => {
    let s = 0;
    for (let a = 0; a < list.length; a++)
      for (let b = a + 1; b < list.length; b++) s += genreDistance(genres, list[a]!, list[b]!);
    return s / ((list.length * (list.length - 1)) / 2);
  });
}
