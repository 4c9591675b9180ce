/**
 * Paired significance tests on per-user metric values of two models (same users, same split).
 * Conventions follow SciPy (`scipy.stats.ttest_rel`, `scipy.stats.wilcoxon` with zero_method="wilcox",
 * correction=True, method="auto") so results can be checked against it; differences are a − b.
 */

import { normalSf, studentTTwoSided } from './distributions';
import { MetricInputError, type PerUserMetric } from './metrics';

export interface PairedTTest {
  test: 'paired-t';
  n: number;
  /** mean(a − b) and its sample standard deviation (n − 1 denominator). */
  meanDifference: number;
  sdDifference: number;
  t: number;
  df: number;
  /** Two-sided. */
  pValue: number;
  /** Cohen's d for paired samples (d_z) = mean(a − b) / sd(a − b). */
  cohensD: number;
}

function differences(name: string, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new MetricInputError(`${name}: ${a.length} values against ${b.length}`);
  const d = new Float64Array(a.length);
  for (let j = 0; j < a.length; j++) {
    d[j] = a[j]! - b[j]!;
    if (!Number.isFinite(d[j]!)) throw new MetricInputError(`${name}: non-finite value at position ${j}`);
  }
  return d;
}

/**
 * Paired t-test of mean(a − b) = 0. When every difference is the same, sd = 0: t = 0 and p = 1 if they are
 * all 0, else t = ±∞ and p = 0 (and d = ±∞); never NaN. Needs n ≥ 2.
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTTest {
  const d = differences('paired t-test', a, b);
  const n = d.length;
  if (n < 2) throw new MetricInputError(`paired t-test: needs at least 2 pairs, got ${n}`);
  let mean = 0;
  for (let j = 0; j < n; j++) mean += d[j]!;
  mean /= n;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (d[j]! - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const df = n - 1;
  if (sd === 0) {
    const inf = mean === 0 ? 0 : mean > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    return {
      test: 'paired-t',
      n,
      meanDifference: mean,
      sdDifference: 0,
      t: inf,
      df,
      pValue: mean === 0 ? 1 : 0,
      cohensD: inf,
    };
  }
  const t = mean / (sd / Math.sqrt(n));
  return {
    test: 'paired-t',
    n,
    meanDifference: mean,
    sdDifference: sd,
    t,
    df,
    pValue: Math.min(1, studentTTwoSided(t, df)),
    cohensD: mean / sd,
  };
}

export interface WilcoxonTest {
  test: 'wilcoxon';
  /** Pairs given, and those with a zero difference (dropped, Wilcoxon's method). */
  pairs: number;
  zeros: number;
  /** Non-zero differences ranked. */
  n: number;
  /** Rank sums of positive and negative differences; statistic = min of the two (SciPy's two-sided). */
  rankSumPositive: number;
  rankSumNegative: number;
  statistic: number;
  /** Normal-approximation z of the positive rank sum: tie-corrected, without continuity correction. */
  z: number;
  /** How the p-value was computed. */
  method: 'exact' | 'permutation' | 'asymptotic';
  /** Two-sided. */
  pValue: number;
  /** Effect size r = z / √n (positive when a tends to exceed b). */
  r: number;
}

export interface WilcoxonOptions {
  /**
   * 'auto' (SciPy's rule: exact null distribution when there are ≤ 50 pairs without ties or zeros; an exact
   * enumeration of all sign flips when there are ties/zeros and ≤ 13 pairs; otherwise the normal
   * approximation), 'exact' (exact distribution; not valid with ties) or 'asymptotic'.
   */
  method?: 'auto' | 'exact' | 'asymptotic';
  /** Continuity correction of the normal approximation (default true). */
  correction?: boolean;
}

/** Wilcoxon signed-rank test of a − b symmetric about 0 (zero differences dropped, average ranks for ties). */
export function wilcoxonSignedRank(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: WilcoxonOptions = {},
): WilcoxonTest {
  const d = differences('wilcoxon', a, b);
  const pairs = d.length;
  if (pairs === 0) throw new MetricInputError('wilcoxon: no pairs (empty input)');
  const nonZero: number[] = [];
  for (let j = 0; j < pairs; j++) if (d[j] !== 0) nonZero.push(d[j]!);
  const n = nonZero.length;
  const zeros = pairs - n;
  if (n === 0) {
    return {
      test: 'wilcoxon',
      pairs,
      zeros,
      n: 0,
      rankSumPositive: 0,
      rankSumNegative: 0,
      statistic: 0,
      z: 0,
      method: 'exact',
      pValue: 1,
      r: 0,
    };
  }
  // average ranks of |d|
  const order = Array.from({ length: n }, (_, j) => j).sort(
    (x, y) => Math.abs(nonZero[x]!) - Math.abs(nonZero[y]!),
  );
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  let hasTies = false;
  for (let s = 0; s < n; ) {
    let e = s + 1;
    const v = Math.abs(nonZero[order[s]!]!);
    while (e < n && Math.abs(nonZero[order[e]!]!) === v) e++;
    const avg = (s + 1 + e) / 2;
    for (let j = s; j < e; j++) ranks[order[j]!] = avg;
    const t = e - s;
    if (t > 1) hasTies = true;
    tieTerm += t * t * t - t;
    s = e;
  }
  let rPlus = 0;
  let rMinus = 0;
  for (let j = 0; j < n; j++) {
    if (nonZero[j]! > 0) rPlus += ranks[j]!;
    else rMinus += ranks[j]!;
  }
  const mean = (n * (n + 1)) / 4;
  const se = Math.sqrt((n * (n + 1) * (2 * n + 1) - tieTerm / 2) / 24);
  const z = se > 0 ? (rPlus - mean) / se : 0;

  let method = options.method ?? 'auto';
  let resolved: WilcoxonTest['method'];
  if (method === 'auto') {
    if (pairs > 50) method = 'asymptotic';
    else if (!hasTies && zeros === 0) method = 'exact';
  }
  let pValue: number;
  if (method === 'exact') {
    resolved = 'exact';
    pValue = exactP(n, rPlus);
  } else if (method === 'asymptotic') {
    resolved = 'asymptotic';
    let zc = z;
    if (options.correction ?? true) zc = se > 0 ? z - (Math.sign(z) * 0.5) / se : 0;
    pValue = Math.min(1, 2 * normalSf(Math.abs(zc)));
  } else if (pairs <= 13) {
    resolved = 'permutation';
    pValue = permutationP(ranks, nonZero, rPlus);
  } else {
    resolved = 'asymptotic';
    let zc = z;
    if (options.correction ?? true) zc = se > 0 ? z - (Math.sign(z) * 0.5) / se : 0;
    pValue = Math.min(1, 2 * normalSf(Math.abs(zc)));
  }
  return {
    test: 'wilcoxon',
    pairs,
    zeros,
    n,
    rankSumPositive: rPlus,
    rankSumNegative: rMinus,
    statistic: Math.min(rPlus, rMinus),
    z,
    method: resolved,
    pValue,
    r: z / Math.sqrt(n),
  };
}

/** Two-sided exact p-value of the positive rank sum under H0 (integer ranks 1..n, no ties). */
function exactP(n: number, rPlus: number): number {
  if (n > 1000)
    throw new MetricInputError(`wilcoxon: exact distribution for n = ${n} is too large; use asymptotic`);
  const max = (n * (n + 1)) / 2;
  // counts[s] = number of subsets of {1..n} with sum s (exact in doubles for n ≤ 50: counts ≤ 2^50)
  let counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (let r = 1; r <= n; r++) {
    const next = counts.slice();
    for (let s = r; s <= max; s++) next[s]! += counts[s - r]!;
    counts = next;
  }
  const total = 2 ** n;
  const lo = Math.ceil(rPlus);
  const hi = Math.floor(rPlus);
  let cdf = 0;
  for (let s = 0; s <= Math.min(lo, max); s++) cdf += counts[s]!;
  let sf = 0;
  for (let s = Math.max(0, hi); s <= max; s++) sf += counts[s]!;
  return Math.min(1, (2 * Math.min(cdf, sf)) / total);
}

/** Two-sided p-value by enumerating every sign assignment of the (tied) ranks. */
function permutationP(ranks: Float64Array, _d: number[], rPlus: number): number {
  const n = ranks.length;
  const total = 2 ** n;
  const tol = 1e-9 * Math.max(1, Math.abs(rPlus));
  let le = 0;
  let ge = 0;
  for (let mask = 0; mask < total; mask++) {
    let s = 0;
    for (let j = 0; j < n; j++) if (mask & (1 << j)) s += ranks[j]!;
    if (s <= rPlus + tol) le++;
    if (s >= rPlus - tol) ge++;
  }
  return Math.min(1, (2 * Math.min(le, ge)) / total);
}

export interface PairedValues {
  users: Int32Array;
  a: Float64Array;
  b: Float64Array;
}

/** Pairs two per-user results by user (users present in both), ordered by user index. */
export function pairByUser(a: PerUserMetric, b: PerUserMetric): PairedValues {
  const bIndex = new Map<number, number>();
  for (let j = 0; j < b.users.length; j++) bIndex.set(b.users[j]!, j);
  const rows: Array<[number, number, number]> = [];
  for (let j = 0; j < a.users.length; j++) {
    const k = bIndex.get(a.users[j]!);
    if (k !== undefined) rows.push([a.users[j]!, a.values[j]!, b.values[k]!]);
  }
  rows.sort((x, y) => x[0] - y[0]);
  return {
    users: Int32Array.from(rows.map((r) => r[0])),
    a: Float64Array.from(rows.map((r) => r[1])),
    b: Float64Array.from(rows.map((r) => r[2])),
  };
}

export interface Comparison {
  metric: string;
  users: number;
  meanA: number;
  meanB: number;
  tTest: PairedTTest;
  wilcoxon: WilcoxonTest;
}

/** Both paired tests on one metric's per-user values of two models. */
export function compareModels(a: PerUserMetric, b: PerUserMetric, options: WilcoxonOptions = {}): Comparison {
  const p = pairByUser(a, b);
  if (p.users.length < 2)
    throw new MetricInputError(`compare ${a.name}: only ${p.users.length} users have values for both models`);
  let sa = 0;
  let sb = 0;
  for (let j = 0; j < p.users.length; j++) {
    sa += p.a[j]!;
    sb += p.b[j]!;
  }
  return {
    metric: a.name,
    users: p.users.length,
    meanA: sa / p.users.length,
    meanB: sb / p.users.length,
    tTest: pairedTTest(p.a, p.b),
    wilcoxon: wilcoxonSignedRank(p.a, p.b, options),
  };
}
