/**
 * Evaluation protocols. Every number they produce is labelled with the protocol that produced it:
 * - `rating`: predict each held-out rating (rmse, mae).
 * - `full`: rank every item of the catalogue for each test user, leaving out the user's training items, and
 *   score the top K against the user's relevant held-out items (all ranking and beyond-accuracy metrics).
 * - `sampled:<N>`: for each relevant held-out (user, item), rank the item against N negatives drawn
 *   uniformly without replacement from the items the user has no interaction with (neither training nor
 *   test), seeded per user (the NCF protocol); per-user values average the user's cases.
 * - `sampled-pop:<N>`: the same with the N negatives drawn with probability ∝ their training popularity (number of
 *   training interactions; items nobody interacted with in training are never drawn), one after another without
 *   replacement — harder negatives than uniform ones (Krichene & Rendle 2020 on how sampled metrics mislead).
 * Leakage: when train and test carry timestamps and some user's training part holds an interaction later than
 * one of their test ones (random / k-fold splits), every result carries a `leakage` note and one warning goes
 * to stderr per (train, test) pair.
 * Relevance: a held-out interaction is relevant when its rating ≥ the threshold (null: every held-out
 * interaction is relevant). Held-out items that are also training items of the user are not relevant (they
 * can never be recommended). Users with held-out items but none relevant are left out of accuracy means
 * and counted (`usersWithoutRelevant`); beyond-accuracy metrics cover every test user.
 * Ties are broken as in the top-k lists everywhere: equal scores rank the lower item index first (AUC counts
 * ties as ½).
 */
import { type RankedUsers, rankingScore, rankUsers } from '../compute/ranking';
import type { Interactions } from '../data/interactions';
import { type FutureLeakage, futureLeakage } from '../data/split';
import type { FactorScorer, Recommender } from '../models/recommender';
import { ConfigError, ReelabError } from '../util/errors';
import { Rng } from '../util/rng';
import {
  catalogueCoverage,
  discount,
  type ItemGenreSets,
  intraListDiversity,
  type ListMetric,
  listMetric,
  MetricInputError,
  mae,
  meanOf,
  novelty,
  type PerUserMetric,
  popularityBias,
  type RankedLists,
  type RelevantSets,
  rmse,
} from './metrics';
import { type MetricSpec, PROTOCOL_NAMES_HELP, parseMetrics } from './names';

/** Default relevance threshold for explicit ratings: rating ≥ 4 is relevant. */
export const DEFAULT_RELEVANCE = 4;

export type RankingProtocol =
  | { kind: 'full' }
  | { kind: 'sampled'; negatives: number }
  | { kind: 'sampled-pop'; negatives: number };

/** Parses "full", "sampled:<N>" or "sampled-pop:<N>". */
export function parseProtocol(text: string): RankingProtocol {
  const t = text.trim().toLowerCase();
  if (t === 'full') return { kind: 'full' };
  const m = /^(sampled|sampled-pop):(\d+)$/.exec(t);
  if (m) {
    const n = Number(m[2]);
    if (Number.isSafeInteger(n) && n >= 1)
      return { kind: m[1] === 'sampled' ? 'sampled' : 'sampled-pop', negatives: n };
  }
  throw new ConfigError('protocol', `unknown protocol "${text}"; expected ${PROTOCOL_NAMES_HELP}`);
}

export function protocolLabel(p: RankingProtocol): string {
  return p.kind === 'full' ? 'full' : `${p.kind}:${p.negatives}`;
}

export interface EvaluateModelOptions {
  /** Metric names (see ./names); rating metrics run under the rating protocol, the rest under each ranking one. */
  metrics: readonly string[];
  /** Ranking protocols ("full", "sampled:<N>"); default ["full"] when ranking metrics are asked for. */
  protocols?: readonly string[];
  /** Rating ≥ threshold is relevant; null: every held-out interaction is (default DEFAULT_RELEVANCE). */
  relevance?: number | null;
  /** Seed of the sampled protocol's negatives (default 42). */
  seed?: number;
  /** Worker threads of full ranking (factor models). */
  threads?: number;
  blockUsers?: number;
  blockItems?: number;
  /** See RankOptions.parallelMinFlops. */
  parallelMinFlops?: number;
  /** Genres per item index (the dataset's movie catalogue), needed by diversity. */
  itemGenres?: ItemGenreSets | null;
  /** Where the leakage warning goes (default: a line on stderr, once per train/test pair); null: nowhere. */
  warn?: ((message: string) => void) | null;
}

/** (train, test) pairs already warned about, so that comparing models on one split warns once. */
const warnedLeakage = new WeakMap<Interactions, WeakSet<Interactions>>();

/** The split's future leakage (lib/data/split `futureLeakage`), warned about once per (train, test) pair. */
export function checkLeakage(
  train: Interactions,
  test: Interactions,
  warn: ((message: string) => void) | null = (m) => process.stderr.write(`${m}\n`),
): FutureLeakage | null {
  const leakage = futureLeakage(train, test);
  if (!leakage || !warn) return leakage;
  let seen = warnedLeakage.get(train);
  if (!seen) {
    seen = new WeakSet();
    warnedLeakage.set(train, seen);
  }
  if (!seen.has(test)) {
    seen.add(test);
    warn(`reelab warning: ${leakage.message}`);
  }
  return leakage;
}

export interface ProtocolResult {
  /** "rating", "full" or "sampled:<N>". */
  protocol: string;
  /** Relevance threshold used (null: every held-out interaction relevant; the rating protocol uses none). */
  relevance: number | null;
  /** Metric name → value (mean over users, except rmse/mae which are over all held-out ratings). */
  metrics: Record<string, number>;
  /** Metric name → per-user values (for significance tests). */
  perUser: Record<string, PerUserMetric>;
  /** Users evaluated: with held-out ratings (rating), ranked (full), with a relevant item (sampled). */
  users: number;
  /** Test users with no relevant held-out item (left out of accuracy means). */
  usersWithoutRelevant: number;
  /** rating: held-out ratings; sampled: (user, relevant item) cases; full: relevant (user, item) pairs. */
  cases: number;
  /** Longest list ranked (full). */
  listLength?: number;
  /** Negatives per case and their seed (sampled). */
  negatives?: number;
  seed?: number;
  /** How the negatives were drawn (sampled): uniformly, or ∝ training popularity (sampled-pop). */
  sampler?: 'uniform' | 'popularity';
  /** Present when training sees some test users' future (see the file comment). */
  leakage?: FutureLeakage;
  /** How scores were obtained. */
  scoring: 'predict' | 'factors' | 'scoreAll';
  seconds: number;
}

/** The relevant held-out items of every user (indexed by user) and the users with held-out items. */
export interface HeldOut {
  relevant: RelevantSets;
  testUsers: Int32Array;
  relevantUsers: Int32Array;
}

/** Builds relevant sets: held-out items with rating ≥ threshold (all when null), minus training items. */
export function heldOutRelevance(train: Interactions, test: Interactions, threshold: number | null): HeldOut {
  checkSameMaps(train, test);
  if (threshold !== null && !Number.isFinite(threshold))
    throw new ConfigError('relevance', `threshold must be a finite number or null, got ${threshold}`);
  const nUsers = train.nUsers;
  const tr = train.csr();
  const te = test.csr();
  const indptr = new Int32Array(nUsers + 1);
  const indices = new Int32Array(te.indices.length);
  const gains = new Float32Array(te.indices.length);
  const testUsers: number[] = [];
  const relevantUsers: number[] = [];
  let n = 0;
  for (let u = 0; u < nUsers; u++) {
    const from = te.indptr[u]!;
    const to = te.indptr[u + 1]!;
    if (to > from) testUsers.push(u);
    let t = tr.indptr[u]!;
    const tEnd = tr.indptr[u + 1]!;
    const start = n;
    for (let p = from; p < to; p++) {
      const item = te.indices[p]!;
      const rating = te.values[p]!;
      if (Number.isNaN(rating))
        throw new MetricInputError(`test set: NaN rating for user index ${u}, item ${item}`);
      if (threshold !== null && !(rating >= threshold)) continue;
      while (t < tEnd && tr.indices[t]! < item) t++;
      if (t < tEnd && tr.indices[t] === item) continue;
      if (n > start && indices[n - 1] === item) {
        // a repeated held-out interaction: one relevant item, with its best rating as gain
        if (rating > gains[n - 1]!) gains[n - 1] = rating;
        continue;
      }
      indices[n] = item;
      gains[n] = rating;
      n++;
    }
    if (n > start) relevantUsers.push(u);
    indptr[u + 1] = n;
  }
  return {
    relevant: { indptr, indices: indices.slice(0, n), gains: gains.slice(0, n) },
    testUsers: Int32Array.from(testUsers),
    relevantUsers: Int32Array.from(relevantUsers),
  };
}

function checkSameMaps(train: Interactions, test: Interactions): void {
  if (train.nUsers !== test.nUsers || train.nItems !== test.nItems)
    throw new ReelabError(
      `train (${train.nUsers} users, ${train.nItems} items) and test (${test.nUsers} users, ${test.nItems} items) do not share id maps`,
    );
}

/**
 * Runs the rating protocol (when rmse/mae are asked for) and each ranking protocol on one fitted model,
 * returning one labelled result per protocol.
 */
export async function evaluateModel(
  model: Recommender,
  train: Interactions,
  test: Interactions,
  options: EvaluateModelOptions,
): Promise<ProtocolResult[]> {
  checkSameMaps(train, test);
  if (test.size === 0) throw new MetricInputError('test set is empty: nothing to evaluate');
  const specs = parseMetrics(options.metrics);
  const rating = specs.filter((s) => s.family === 'rating');
  const ranking = specs.filter((s) => s.family !== 'rating');
  const protocols = (options.protocols ?? (ranking.length > 0 ? ['full'] : [])).map(parseProtocol);
  const labels = new Set<string>();
  for (const p of protocols) {
    const l = protocolLabel(p);
    if (labels.has(l)) throw new ConfigError('protocol', `protocol ${l} given twice`);
    labels.add(l);
  }
  if (ranking.length > 0 && protocols.length === 0)
    throw new ConfigError(
      'protocol',
      `${ranking.map((s) => s.name).join(', ')} need a ranking protocol (${PROTOCOL_NAMES_HELP})`,
    );
  const beyond = ranking.filter((s) => s.family === 'beyond');
  if (beyond.length > 0 && !protocols.some((p) => p.kind === 'full'))
    throw new ConfigError(
      'metrics',
      `${beyond.map((s) => s.name).join(', ')} need the full protocol (they describe whole recommendation lists)`,
    );
  if (ranking.some((s) => s.kind === 'diversity') && !options.itemGenres)
    throw new ConfigError('metrics', 'diversity needs item genres (itemGenres: the movie catalogue)');
  const relevance = options.relevance === undefined ? DEFAULT_RELEVANCE : options.relevance;

  const leakage = checkLeakage(train, test, options.warn);
  const results: ProtocolResult[] = [];
  if (rating.length > 0) results.push(ratingProtocol(model, test, rating));
  if (ranking.length > 0) {
    const heldOut = heldOutRelevance(train, test, relevance);
    for (const p of protocols) {
      if (p.kind === 'full')
        results.push(await fullProtocol(model, train, heldOut, ranking, relevance, options));
      else
        results.push(
          sampledProtocol(
            model,
            train,
            test,
            heldOut,
            ranking.filter((s) => s.family === 'accuracy'),
            relevance,
            {
              negatives: p.negatives,
              seed: options.seed ?? 42,
              sampler: p.kind === 'sampled' ? 'uniform' : 'popularity',
            },
          ),
        );
    }
  }
  return leakage ? results.map((r) => ({ ...r, leakage })) : results;
}

// ---------------------------------------------------------------------------------------------------------

function ratingProtocol(model: Recommender, test: Interactions, specs: MetricSpec[]): ProtocolResult {
  const started = performance.now();
  const predicted = model.predict(test.users, test.items);
  const metrics: Record<string, number> = {};
  const perUser: Record<string, PerUserMetric> = {};
  // per-user errors (for paired tests): RMSE and MAE of each user's held-out ratings
  const nUsers = test.nUsers;
  const sq = new Float64Array(nUsers);
  const ab = new Float64Array(nUsers);
  const cnt = new Int32Array(nUsers);
  for (let j = 0; j < test.size; j++) {
    const e = test.ratings[j]! - predicted[j]!;
    if (Number.isNaN(e)) throw new MetricInputError(`rating protocol: NaN prediction at test row ${j}`);
    const u = test.users[j]!;
    sq[u]! += e * e;
    ab[u]! += Math.abs(e);
    cnt[u]!++;
  }
  const users: number[] = [];
  for (let u = 0; u < nUsers; u++) if (cnt[u]! > 0) users.push(u);
  const us = Int32Array.from(users);
  for (const s of specs) {
    const v = new Float64Array(us.length);
    for (let r = 0; r < us.length; r++) {
      const u = us[r]!;
      v[r] = s.kind === 'rmse' ? Math.sqrt(sq[u]! / cnt[u]!) : ab[u]! / cnt[u]!;
    }
    metrics[s.name] = s.kind === 'rmse' ? rmse(test.ratings, predicted) : mae(test.ratings, predicted);
    perUser[s.name] = { name: s.name, users: us, values: v, mean: meanOf(s.name, v), excluded: 0 };
  }
  return {
    protocol: 'rating',
    relevance: null,
    metrics,
    perUser,
    users: us.length,
    usersWithoutRelevant: 0,
    cases: test.size,
    scoring: 'predict',
    seconds: (performance.now() - started) / 1000,
  };
}

async function fullProtocol(
  model: Recommender,
  train: Interactions,
  heldOut: HeldOut,
  specs: MetricSpec[],
  relevance: number | null,
  options: EvaluateModelOptions,
): Promise<ProtocolResult> {
  const started = performance.now();
  const { relevant, testUsers, relevantUsers } = heldOut;
  const hasBeyond = specs.some((s) => s.family === 'beyond');
  const users = hasBeyond ? testUsers : relevantUsers;
  if (users.length === 0)
    throw new MetricInputError(
      `full protocol: no test user has a relevant held-out item (relevance ${relevanceText(relevance)})`,
    );
  let k = 1;
  for (const s of specs) if (s.k !== null && s.k > k) k = s.k;
  const needStats = specs.some((s) => s.k === null);
  const ranked = await rankUsers(model, train.nItems, users, {
    k,
    exclude: train.csr(),
    relevant: needStats ? relevant : null,
    threads: options.threads,
    blockUsers: options.blockUsers,
    blockItems: options.blockItems,
    parallelMinFlops: options.parallelMinFlops,
  });
  const lists: RankedLists = ranked;
  const metrics: Record<string, number> = {};
  const perUser: Record<string, PerUserMetric> = {};
  let itemUsers: Int32Array | null = null;
  let trainUsers = 0;
  if (hasBeyond) {
    itemUsers = train.itemCounts();
    const uc = train.userCounts();
    for (let u = 0; u < uc.length; u++) if (uc[u]! > 0) trainUsers++;
  }
  for (const s of specs) {
    let result: PerUserMetric | number;
    switch (s.kind) {
      case 'coverage':
        result = catalogueCoverage(lists, train.nItems, s.k!);
        break;
      case 'novelty':
        result = novelty(lists, itemUsers!, trainUsers, s.k!);
        break;
      case 'popularity-bias':
        result = popularityBias(lists, itemUsers!, s.k!);
        break;
      case 'diversity':
        result = intraListDiversity(lists, options.itemGenres!, s.k!);
        break;
      case 'auc':
        result = aucFromRanking(s.name, ranked, relevant);
        break;
      case 'mrr':
        result =
          s.k === null ? fullMrr(s.name, ranked, relevant) : listMetric(s.name, 'mrr', s.k, lists, relevant);
        break;
      default:
        result = listMetric(s.name, s.kind as ListMetric, s.k!, lists, relevant);
    }
    if (typeof result === 'number') metrics[s.name] = result;
    else {
      metrics[s.name] = result.mean;
      perUser[s.name] = { ...result, name: s.name };
    }
  }
  return {
    protocol: 'full',
    relevance,
    metrics,
    perUser,
    users: users.length,
    usersWithoutRelevant: testUsers.length - relevantUsers.length,
    cases: relevant.indices.length,
    listLength: k,
    scoring: ranked.path,
    seconds: (performance.now() - started) / 1000,
  };
}

function relevanceText(relevance: number | null): string {
  return relevance === null ? 'every held-out item' : `rating ≥ ${relevance}`;
}

function aucFromRanking(name: string, ranked: RankedUsers, relevant: RelevantSets): PerUserMetric {
  const users: number[] = [];
  const values: number[] = [];
  let excluded = 0;
  for (let r = 0; r < ranked.users.length; r++) {
    const u = ranked.users[r]!;
    const pairs = ranked.aucPairs![r]!;
    if (relevant.indptr[u + 1]! === relevant.indptr[u]! || !(pairs > 0)) {
      excluded++;
      continue;
    }
    users.push(u);
    values.push(ranked.aucWins![r]! / pairs);
  }
  const v = Float64Array.from(values);
  return {
    name,
    users: Int32Array.from(users),
    values: v,
    mean: meanOf(name, v, 'no user has a relevant item and a negative'),
    excluded,
  };
}

function fullMrr(name: string, ranked: RankedUsers, relevant: RelevantSets): PerUserMetric {
  const users: number[] = [];
  const values: number[] = [];
  let excluded = 0;
  for (let r = 0; r < ranked.users.length; r++) {
    const u = ranked.users[r]!;
    if (relevant.indptr[u + 1]! === relevant.indptr[u]!) {
      excluded++;
      continue;
    }
    const rank = ranked.bestRank![r]!;
    users.push(u);
    values.push(rank > 0 ? 1 / rank : 0);
  }
  const v = Float64Array.from(values);
  return {
    name,
    users: Int32Array.from(users),
    values: v,
    mean: meanOf(name, v, 'no user has a relevant item'),
    excluded,
  };
}

// ---------------------------------------------------------------------------------------------------------

function sampledProtocol(
  model: Recommender,
  train: Interactions,
  test: Interactions,
  heldOut: HeldOut,
  specs: MetricSpec[],
  relevance: number | null,
  opts: { negatives: number; seed: number; sampler: 'uniform' | 'popularity' },
): ProtocolResult {
  const started = performance.now();
  const byPopularity = opts.sampler === 'popularity';
  const label = `${byPopularity ? 'sampled-pop' : 'sampled'}:${opts.negatives}`;
  const { relevant, testUsers, relevantUsers } = heldOut;
  if (relevantUsers.length === 0)
    throw new MetricInputError(
      `${label}: no test user has a relevant held-out item (relevance ${relevanceText(relevance)})`,
    );
  const nItems = train.nItems;
  const N = opts.negatives;
  const tr = train.csr();
  const te = test.csr();
  const scorer: FactorScorer | null = model.batchScorer?.() ?? null;
  const row = scorer ? null : new Float32Array(nItems);
  const stamp = new Int32Array(nItems);
  let stampValue = 0;
  const negatives = new Int32Array(N);
  const negScores = new Float64Array(N);
  const sums = specs.map(() => new Float64Array(relevantUsers.length));
  let cases = 0;
  const popular = byPopularity ? new PopularitySampler(train.itemCounts()) : null;

  for (let r = 0; r < relevantUsers.length; r++) {
    const u = relevantUsers[r]!;
    const rng = Rng.derive(opts.seed, u);
    // items the user interacted with (train or test) are never negatives
    stampValue++;
    let interacted = 0;
    for (const m of [tr, te])
      for (let p = m.indptr[u]!; p < m.indptr[u + 1]!; p++) {
        const item = m.indices[p]!;
        if (stamp[item] !== stampValue && (!popular || popular.weights[item]! > 0)) interacted++;
        stamp[item] = stampValue;
      }
    const available = (popular ? popular.drawable : nItems) - interacted;
    if (available < N)
      throw new ConfigError(
        'protocol',
        `${label}: user ${train.userIds.ids[u]} has only ${available} items without interactions` +
          `${popular ? ' (and with training interactions)' : ''} to draw ${N} negatives from`,
      );
    if (row) model.scoreAll(u, row);
    const score = (item: number): number => {
      const s = scorer ? rankingScore(scorer, u, item) : row![item]!;
      if (Number.isNaN(s))
        throw new ReelabError(`the model scored NaN for user index ${u}, item index ${item}`);
      return s;
    };
    const from = relevant.indptr[u]!;
    const to = relevant.indptr[u + 1]!;
    const excludedStamp = stampValue;
    for (let p = from; p < to; p++) {
      const positive = relevant.indices[p]!;
      if (popular) popular.draw(rng, N, stamp, excludedStamp, negatives);
      else drawNegatives(rng, nItems, N, available, stamp, excludedStamp, negatives);
      const sp = score(positive);
      let ahead = 0;
      let below = 0;
      let ties = 0;
      for (let j = 0; j < N; j++) {
        const item = negatives[j]!;
        const s = score(item);
        negScores[j] = s;
        if (s > sp || (s === sp && item < positive)) ahead++;
        if (s < sp) below++;
        else if (s === sp) ties++;
      }
      const rank = ahead + 1;
      for (let m = 0; m < specs.length; m++)
        sums[m]![r]! += caseValue(specs[m]!, rank, (below + 0.5 * ties) / N);
      cases++;
    }
    for (let m = 0; m < specs.length; m++) sums[m]![r]! /= to - from;
  }

  const metrics: Record<string, number> = {};
  const perUser: Record<string, PerUserMetric> = {};
  for (let m = 0; m < specs.length; m++) {
    const s = specs[m]!;
    const values = sums[m]!;
    const mean = meanOf(s.name, values);
    metrics[s.name] = mean;
    perUser[s.name] = {
      name: s.name,
      users: relevantUsers,
      values,
      mean,
      excluded: testUsers.length - relevantUsers.length,
    };
  }
  return {
    protocol: label,
    relevance,
    metrics,
    perUser,
    users: relevantUsers.length,
    usersWithoutRelevant: testUsers.length - relevantUsers.length,
    cases,
    negatives: N,
    seed: opts.seed,
    sampler: opts.sampler,
    scoring: scorer ? 'factors' : 'scoreAll',
    seconds: (performance.now() - started) / 1000,
  };
}

/** One case of the sampled protocol: one relevant item at 1-based `rank` among itself and N negatives. */
function caseValue(spec: MetricSpec, rank: number, aucValue: number): number {
  const k = spec.k ?? Number.POSITIVE_INFINITY;
  const hit = rank <= k;
  switch (spec.kind) {
    case 'precision':
      return hit ? 1 / k : 0;
    case 'recall':
    case 'hr':
      return hit ? 1 : 0;
    case 'ndcg':
    case 'ndcg-graded':
      // a single relevant item: the ideal DCG is 1, so the gain cancels
      return hit ? discount(rank - 1) : 0;
    case 'map':
    case 'mrr':
      return hit ? 1 / rank : 0;
    case 'auc':
      return aucValue;
    default:
      throw new ConfigError('metrics', `${spec.name} is not defined under the sampled protocol`);
  }
}

/**
 * Draws `n` distinct items uniformly from those whose stamp is not `excluded` (there are `available` of them)
 * into `out`, in draw order: by rejection when they are plentiful, else by a partial shuffle of the list.
 */
function drawNegatives(
  rng: Rng,
  nItems: number,
  n: number,
  available: number,
  stamp: Int32Array,
  excluded: number,
  out: Int32Array,
): void {
  // Drawn items get a fresh stamp so they are not drawn twice; the caller's `excluded` stamp survives because
  // drawn items never carried it.
  const drawn = -excluded;
  if (2 * n <= available) {
    let got = 0;
    while (got < n) {
      const item = rng.int(nItems);
      const st = stamp[item]!;
      if (st === excluded || st === drawn) continue;
      stamp[item] = drawn;
      out[got++] = item;
    }
  } else {
    const pool = new Int32Array(available);
    let m = 0;
    for (let i = 0; i < nItems; i++) if (stamp[i] !== excluded) pool[m++] = i;
    for (let j = 0; j < n; j++) {
      const pick = j + rng.int(m - j);
      const t = pool[j]!;
      pool[j] = pool[pick]!;
      pool[pick] = t;
      out[j] = pool[j]!;
    }
  }
  // un-mark this case's draws so the next case of the user can draw them again
  for (let j = 0; j < n; j++) if (stamp[out[j]!] === drawn) stamp[out[j]!] = 0;
}

/**
 * Draws negatives with probability ∝ weight (training popularity), one after another without replacement among
 * the items whose stamp is not the caller's `excluded` one: by rejection against the cumulative weights while
 * that is cheap, else exactly by Efraimidis–Spirakis keys (the n largest log(U)/w over the allowed items, which
 * has the same distribution as successive weighted draws without replacement).
 */
export class PopularitySampler {
  /** Weight of each item (items with weight 0 are never drawn). */
  readonly weights: Float64Array;
  /** Items with a positive weight. */
  readonly drawable: number;
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: ArrayLike<number>) {
    this.weights = Float64Array.from(weights);
    this.cumulative = new Float64Array(this.weights.length);
    let total = 0;
    let drawable = 0;
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.weights[i]!;
      if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`popularity weight ${w} of item ${i}`);
      if (w > 0) drawable++;
      total += w;
      this.cumulative[i] = total;
    }
    this.total = total;
    this.drawable = drawable;
  }

  /** One item ∝ weight (no exclusions). */
  private pick(rng: Rng): number {
    const target = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * `n` distinct items into `out`, in draw order, none with stamp `excluded` (the caller checks that enough
   * drawable items are allowed). `stamp` is restored on return.
   */
  draw(rng: Rng, n: number, stamp: Int32Array, excluded: number, out: Int32Array): void {
    const drawn = -excluded;
    let got = 0;
    let tries = 0;
    const budget = 32 * n + 64;
    while (got < n && tries < budget) {
      tries++;
      const item = this.pick(rng);
      const st = stamp[item]!;
      if (st === excluded || st === drawn || !(this.weights[item]! > 0)) continue;
      stamp[item] = drawn;
      out[got++] = item;
    }
    if (got < n) {
      // The allowed mass is small: exact keys over the remaining allowed items.
      const keys: Array<[number, number]> = [];
      for (let i = 0; i < this.weights.length; i++) {
        const w = this.weights[i]!;
        if (!(w > 0) || stamp[i] === excluded || stamp[i] === drawn) continue;
        keys.push([Math.log(1 - rng.next()) / w, i]);
      }
      keys.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let k = 0; got < n; k++) {
        const item = keys[k]![1];
        stamp[item] = drawn;
        out[got++] = item;
      }
    }
    for (let j = 0; j < n; j++) if (stamp[out[j]!] === drawn) stamp[out[j]!] = 0;
  }
}
