import { join } from 'node:path';
import { ConfigError, ReelabError } from '../util/errors';
import { toShared, workerPool } from './pool';
import { type Alloc, packItems, paddedItems, quantiseItems } from './ranking-kernel';
import { type ItemSets, RankStats, TopKSelector } from './ranking-select';
import { type RankTaskPayload, type RankTaskResult, rankUsersTask } from './ranking-task';
import type { FactorScorer, ItemScorer } from './scorer';

export type { ItemSets } from './ranking-select';

export interface RankOptions {
  /** List length. */
  k: number;
  /** Items to leave out per user (normally the training items), indexed by user. */
  exclude?: ItemSets | null;
  /**
   * Relevant items per user (indexed by user, none of them excluded): when given, the full-ranking rank of
   * the best relevant item and the AUC pair counts are computed too (they need every score, not only top k).
   */
  relevant?: ItemSets | null;
  /** Worker threads for factor models (default 1: inline on the calling thread; small jobs always run inline). */
  threads?: number;
  /** Users scored together against each item tile (default 48). Results do not depend on it. */
  blockUsers?: number;
  /** Items per tile (default 512, rounded up to 16). Results do not depend on it. */
  blockItems?: number;
  /** Rankings of fewer flops than this run on the calling thread (default 2e8); results do not depend on it. */
  parallelMinFlops?: number;
  /**
   * Use the int16 bound kernel to skip items that cannot enter the top k (default true; only for top-k
   * lists without rank statistics). Results do not depend on it: it only changes the speed.
   */
  boundKernel?: boolean;
}

export interface RankedUsers {
  users: Int32Array;
  k: number;
  /** users.length × k, best first; positions past `counts[r]` hold -1. */
  items: Int32Array;
  /** Scores of `items` as the model defines them (with user and global biases); 0 past `counts[r]`. */
  scores: Float32Array;
  /** List length per user (k unless fewer candidates remain). */
  counts: Int32Array;
  /** With `relevant`: 1-based rank of the best relevant item among all candidates (0: none). */
  bestRank: Float64Array | null;
  /** With `relevant`: AUC numerator (wins + ½ ties) and number of (relevant, negative) pairs per user. */
  aucWins: Float64Array | null;
  aucPairs: Float64Array | null;
  /** 'factors': the blocked wasm kernel on a FactorScorer; 'scoreAll': the model's own scoreAll per user. */
  path: 'factors' | 'scoreAll';
  /** Threads that did the scoring (1 when the job ran inline). */
  threads: number;
  seconds: number;
  /** Seconds inside the scoring kernel, summed over threads (factor path only). */
  kernelSeconds: number;
  /** Multiply-add flops of the scoring (2 · factors · items per user; factor path only). */
  flops: number;
  /** Tiles scored by the exact f32 kernel and by the int16 bound kernel, and items rescored exactly. */
  work: { exactTiles: number; boundTiles: number; rescored: number };
}

let nextScorerId = 1;

/** Below this many flops a ranking runs on the calling thread whatever `threads` says. */
const INLINE_FLOPS = 2e8;

function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8)).subarray(0, n);
}

function checkOptions(options: RankOptions): void {
  if (!(Number.isInteger(options.k) && options.k >= 1))
    throw new ConfigError('k', `must be a positive integer, got ${options.k}`);
  for (const key of ['threads', 'blockUsers', 'blockItems'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new ConfigError(key, `must be a positive integer, got ${v}`);
  }
}

function checkUsers(
  users: Int32Array,
  nUsers: number,
  sets: Array<[string, ItemSets | null | undefined]>,
): void {
  for (let r = 0; r < users.length; r++) {
    const u = users[r]!;
    if (!(u >= 0 && u < nUsers)) throw new RangeError(`user index ${u} is outside 0..${nUsers - 1}`);
  }
  for (const [name, set] of sets) {
    if (set && set.indptr.length < nUsers + 1)
      throw new RangeError(`${name}: indptr has ${set.indptr.length} entries, expected ${nUsers + 1}`);
  }
}

/**
 * Top-k items of each user in `users` over all `nItems` items, leaving out `exclude`d items. Models with a
 * factor form (`batchScorer()`) are scored by the blocked wasm kernel, in parallel over worker threads;
 * others through `scoreAll` on this thread. Either way the lists follow `topK`'s order (ties → lower index)
 * and do not depend on thread count or block sizes.
 */
export async function rankUsers(
  model: ItemScorer,
  nItems: number,
  users: Int32Array,
  options: RankOptions,
): Promise<RankedUsers> {
  const scorer = model.batchScorer?.() ?? null;
  if (scorer) return rankWithFactors(scorer, users, options);
  return rankWithScoreAll(model, nItems, users, options);
}

/** Full ranking of a factor model (see `rankUsers`). */
export async function rankWithFactors(
  scorer: FactorScorer,
  users: Int32Array,
  options: RankOptions,
): Promise<RankedUsers> {
  checkOptions(options);
  const F = scorer.factors;
  if (!(Number.isInteger(F) && F >= 1)) throw new ReelabError(`factor scorer: bad factor count ${F}`);
  if (scorer.itemFactors.length % F !== 0 || scorer.userFactors.length % F !== 0)
    throw new ReelabError('factor scorer: factor arrays are not a whole number of rows');
  const nItems = scorer.itemFactors.length / F;
  const nUsers = scorer.userFactors.length / F;
  if (scorer.itemBias && scorer.itemBias.length !== nItems)
    throw new ReelabError(`factor scorer: ${scorer.itemBias.length} item biases for ${nItems} items`);
  if (scorer.userBias && scorer.userBias.length !== nUsers)
    throw new ReelabError(`factor scorer: ${scorer.userBias.length} user biases for ${nUsers} users`);
  checkUsers(users, nUsers, [
    ['exclude', options.exclude],
    ['relevant', options.relevant],
  ]);
  const started = performance.now();
  const k = options.k;
  const n = users.length;
  const threads = options.threads ?? 1;
  const nPad = paddedItems(nItems);
  const packed = packItems(scorer.itemFactors, nItems, F, scorer.itemBias, {
    items: new Float32Array(new SharedArrayBuffer(Math.max(1, nPad * F) * 4)),
    bias: new Float32Array(new SharedArrayBuffer(Math.max(1, nPad) * 4)),
  });
  const withStats = Boolean(options.relevant);
  const alloc: Alloc =
    threads > 1
      ? {
          f32: (m) => new Float32Array(new SharedArrayBuffer(Math.max(1, m) * 4)).subarray(0, m),
          i16: (m) => new Int16Array(new SharedArrayBuffer(Math.max(2, m * 2))).subarray(0, m),
        }
      : { f32: (m) => new Float32Array(m), i16: (m) => new Int16Array(m) };
  const quantised =
    options.boundKernel === false || withStats
      ? null
      : quantiseItems(scorer.itemFactors, nItems, F, scorer.itemBias, alloc);
  const base: RankTaskPayload = {
    scorerId: `${process.pid}:${nextScorerId++}`,
    factors: F,
    nItems,
    packedItems: packed.items.subarray(0, nPad * F),
    packedBias: packed.bias.subarray(0, nPad),
    quantised,
    userFactors: shareIf(scorer.userFactors, threads),
    users: shareIf(users, threads),
    start: 0,
    end: n,
    k,
    blockUsers: options.blockUsers ?? 48,
    blockItems: options.blockItems ?? 512,
    excludeIndptr: options.exclude ? shareIf(options.exclude.indptr, threads) : null,
    excludeIndices: options.exclude ? shareIf(options.exclude.indices, threads) : null,
    relevantIndptr: options.relevant ? shareIf(options.relevant.indptr, threads) : null,
    relevantIndices: options.relevant ? shareIf(options.relevant.indices, threads) : null,
    outItems: new Int32Array(new SharedArrayBuffer(Math.max(1, n * k) * 4)).subarray(0, n * k),
    outScores: new Float32Array(new SharedArrayBuffer(Math.max(1, n * k) * 4)).subarray(0, n * k),
    outCounts: new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4)).subarray(0, n),
    outBestRank: withStats ? sharedFloat64(n) : null,
    outWins: withStats ? sharedFloat64(n) : null,
    outPairs: withStats ? sharedFloat64(n) : null,
  };
  let results: RankTaskResult[];
  // Small jobs run inline: starting workers would cost more than the scoring (results are the same).
  const inline = threads === 1 || n === 0 || 2 * F * nItems * n < (options.parallelMinFlops ?? INLINE_FLOPS);
  if (inline) {
    results = n === 0 ? [] : [rankUsersTask(base)];
  } else {
    // A few pieces per thread for balance; each user's result is independent of the piece it falls in.
    const pieces = Math.min(n, threads * 4);
    const payloads: RankTaskPayload[] = [];
    for (let p = 0; p < pieces; p++) {
      const start = Math.floor((n * p) / pieces);
      const end = Math.floor((n * (p + 1)) / pieces);
      if (end > start) payloads.push({ ...base, start, end });
    }
    results = await workerPool(threads).map<RankTaskResult>(
      { module: join(__dirname, 'ranking-task'), fn: 'rankUsersTask' },
      payloads,
    );
  }
  // Report scores on the model's scale: add the per-user constant the ranking did not need.
  const scores = base.outScores;
  const global = scorer.globalBias ?? 0;
  if (scorer.userBias || global !== 0) {
    for (let r = 0; r < n; r++) {
      const shift = (scorer.userBias ? scorer.userBias[users[r]!]! : 0) + global;
      const count = base.outCounts[r]!;
      for (let j = 0; j < count; j++) scores[r * k + j] = Math.fround(scores[r * k + j]! + shift);
    }
  }
  let kernelSeconds = 0;
  const work = { exactTiles: 0, boundTiles: 0, rescored: 0 };
  for (const r of results) {
    kernelSeconds += r.kernelSeconds;
    work.exactTiles += r.exactTiles;
    work.boundTiles += r.boundTiles;
    work.rescored += r.rescored;
  }
  return {
    users,
    k,
    items: base.outItems,
    scores,
    counts: base.outCounts,
    bestRank: base.outBestRank,
    aucWins: base.outWins,
    aucPairs: base.outPairs,
    path: 'factors',
    threads: inline ? 1 : threads,
    seconds: (performance.now() - started) / 1000,
    kernelSeconds,
    flops: 2 * F * nItems * n,
    work,
  };
}

function shareIf<T extends Float32Array | Int32Array>(a: T, threads: number): T {
  return threads > 1 ? toShared(a) : a;
}

/** Full ranking through `scoreAll` for models without a factor form (one user at a time, this thread). */
export async function rankWithScoreAll(
  model: ItemScorer,
  nItems: number,
  users: Int32Array,
  options: RankOptions,
): Promise<RankedUsers> {
  checkOptions(options);
  const maxUser = options.exclude ? options.exclude.indptr.length - 1 : Number.MAX_SAFE_INTEGER;
  checkUsers(users, maxUser, [['relevant', options.relevant]]);
  const started = performance.now();
  const k = options.k;
  const n = users.length;
  const items = new Int32Array(n * k);
  const scores = new Float32Array(n * k);
  const counts = new Int32Array(n);
  const relevant = options.relevant ?? null;
  const bestRank = relevant ? new Float64Array(n) : null;
  const aucWins = relevant ? new Float64Array(n) : null;
  const aucPairs = relevant ? new Float64Array(n) : null;
  const selector = new TopKSelector(k, 1, options.exclude ?? null);
  const stats = relevant ? new RankStats(1, options.exclude ?? null, relevant) : null;
  const row = new Float32Array(nItems);
  const scoreOf = (item: number) => row[item]!;
  for (let r = 0; r < n; r++) {
    const u = users[r]!;
    model.scoreAll(u, row);
    selector.reset(0, u);
    selector.scan(0, row, 0, nItems, 0);
    counts[r] = selector.finish(0, items, scores, r * k);
    if (stats) {
      stats.reset(0, u, scoreOf);
      stats.scan(0, row, 0, nItems, 0);
      const s = stats.finish(0);
      bestRank![r] = s.bestRank;
      aucWins![r] = s.wins;
      aucPairs![r] = s.pairs;
    }
    // Let timers and abort handlers run on long evaluations.
    if ((r & 1023) === 1023) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return {
    users,
    k,
    items,
    scores,
    counts,
    bestRank,
    aucWins,
    aucPairs,
    path: 'scoreAll',
    threads: 1,
    seconds: (performance.now() - started) / 1000,
    kernelSeconds: 0,
    flops: 0,
    work: { exactTiles: 0, boundTiles: 0, rescored: 0 },
  };
}

/**
 * The ranking score of (user, item) under a factor scorer exactly as the full-ranking kernel computes it
 * (float32 after every operation, factors in order, then the item bias); user and global biases, which do
 * not change a user's ranking, are left out.
 */
export function rankingScore(scorer: FactorScorer, user: number, item: number): number {
  const F = scorer.factors;
  const u = user * F;
  const v = item * F;
  const U = scorer.userFactors;
  const V = scorer.itemFactors;
  let acc = 0;
  for (let f = 0; f < F; f++) acc = Math.fround(acc + Math.fround(U[u + f]! * V[v + f]!));
  return Math.fround(acc + (scorer.itemBias ? scorer.itemBias[item]! : 0));
}
