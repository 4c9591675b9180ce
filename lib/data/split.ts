import { join } from 'node:path';
import { ConfigError } from '../util/errors';
import { Rng } from '../util/rng';
import { interactionsFromRaw } from './build';
import { datasetDir, resolveDataDir } from './data-dir';
import type { Interactions } from './interactions';
import { filterKCore } from './kcore';
import { MOVIELENS } from './movielens';
import { userTimeOrder } from './order';
import { readRatingsFile } from './parse-ratings';

/** Every split name reelab accepts (the CLI, configs and error messages show this text). */
export const SPLIT_GRAMMAR = [
  'u1 | u2 | u3 | u4 | u5 | ua | ub   GroupLens folds of ml-100k, read from uN.base / uN.test',
  'random:<testFraction>             seeded random holdout, e.g. random:0.2',
  'kfold:<k>:<fold>                  seeded k-fold, fold 1..k; each rating is in exactly one test fold',
  'temporal-user:<testFraction>      per user, the latest round(fraction × count) ratings by timestamp',
  'temporal-user-last:<n>            per user, the latest n ratings by timestamp',
  'leave-last-out                    per user, the latest rating',
  '  (temporal splits: ties in time go by ascending movie; every user keeps at least one training rating)',
  'global-time:<ISO date>            ratings at or after the date (UTC) are the test part',
  'kcore:<k>+<split>                 first keep the k-core (users and items with ≥ k ratings, repeated until',
  '                                  stable), then split, e.g. kcore:5+temporal-user:0.2; kcore:<ku>:<ki>+…',
  '                                  gives users and items their own k (not with the GroupLens folds)',
].join('\n');

export const GROUPLENS_FOLDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub'] as const;
export type GroupLensFold = (typeof GROUPLENS_FOLDS)[number];

/** A k-core filter applied to the whole dataset before the split (`kcore:<k>+<split>`). */
export interface KCoreSpec {
  users: number;
  items: number;
}

export type SplitSpec = BaseSplitSpec & { kcore?: KCoreSpec };

export type BaseSplitSpec =
  | { kind: 'grouplens'; fold: GroupLensFold }
  | { kind: 'random'; fraction: number }
  | { kind: 'kfold'; k: number; fold: number }
  | { kind: 'temporal-user'; fraction: number }
  | { kind: 'temporal-user-last'; n: number }
  | { kind: 'leave-last-out' }
  | { kind: 'global-time'; cutoff: number; iso: string };

/** What was left out of (or would be unseen in) the test part: distinct users, distinct items, ratings. */
export interface SplitCounts {
  users: number;
  items: number;
  ratings: number;
}

export interface Split {
  /** The split's name as given (e.g. "u1", "random:0.2"). */
  name: string;
  spec: SplitSpec;
  seed: number;
  train: Interactions;
  test: Interactions;
  /** Test users/items/ratings removed by `dropUnseen` (all zero when nothing was dropped). */
  dropped: SplitCounts;
  /** Test users/items without any training rating, and the test ratings that involve them, after dropping. */
  unseen: SplitCounts;
  /** Training data later than some of the same user's test data (random / k-fold splits); null when none. */
  leakage: FutureLeakage | null;
  /** What the k-core filter removed before splitting (`kcore:<k>+…`); absent without one. */
  kcore?: { rounds: number; removed: SplitCounts; kept: SplitCounts };
}

/**
 * How far a split lets training see a user's future: test users with a training interaction later than one of
 * their test interactions, and the test interactions older than their user's latest training one.
 */
export interface FutureLeakage {
  /** Test users whose training part holds an interaction later than one of their test interactions. */
  users: number;
  /** Test users (with timestamps) looked at. */
  testUsers: number;
  /** Test interactions older than the latest training interaction of their user. */
  ratings: number;
  /** One sentence saying so and what to use instead. */
  message: string;
}

export interface SplitOptions {
  seed?: number;
  dataDir?: string;
  /**
   * Remove test ratings whose user (`'users'`), item (`'items'`) or either (`true` / `'both'`) has no training
   * rating. The numbers removed are reported in `Split.dropped`.
   */
  dropUnseen?: boolean | 'users' | 'items' | 'both';
}

const DEFAULT_SEED = 42;

function bad(spec: string, why: string): never {
  throw new ConfigError('split', `${why} in "${spec}"; splits are:\n${SPLIT_GRAMMAR}`);
}

function fraction(spec: string, text: string): number {
  const f = Number(text);
  if (!/^(0|1)?\.\d+$|^0$|^1$/.test(text) || !(f > 0 && f < 1))
    bad(spec, `the test fraction must be a number strictly between 0 and 1, got "${text}"`);
  return f;
}

function positiveInt(spec: string, text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) bad(spec, `${what} must be a positive integer, got "${text}"`);
  return Number(text);
}

/**
 * Parses a split name into its typed form; a ConfigError lists the grammar for anything else. A leading
 * `kcore:<k>+` (or `kcore:<ku>:<ki>+`) adds `kcore` to the spec of the split after the `+`.
 */
export function parseSplitSpec(spec: string): SplitSpec {
  if (spec.startsWith('kcore')) {
    const m = /^kcore:(\d+)(?::(\d+))?\+(.+)$/.exec(spec);
    if (!m) bad(spec, 'a k-core prefix is kcore:<k>+<split> or kcore:<users k>:<items k>+<split>');
    const users = positiveInt(spec, m[1]!, 'the k-core k');
    const items = m[2] === undefined ? users : positiveInt(spec, m[2], "the items' k");
    const inner = parseBaseSplitSpec(m[3]!);
    if (inner.kind === 'grouplens')
      bad(spec, `a k-core cannot be applied to the GroupLens fold ${inner.fold} (its files fix the split)`);
    return { ...inner, kcore: { users, items } };
  }
  return parseBaseSplitSpec(spec);
}

function parseBaseSplitSpec(spec: string): BaseSplitSpec {
  if ((GROUPLENS_FOLDS as readonly string[]).includes(spec))
    return { kind: 'grouplens', fold: spec as GroupLensFold };
  if (spec === 'leave-last-out') return { kind: 'leave-last-out' };
  const colon = spec.indexOf(':');
  const head = colon < 0 ? spec : spec.slice(0, colon);
  const args = colon < 0 ? [] : spec.slice(colon + 1).split(':');
  switch (head) {
    case 'random':
      if (args.length !== 1) bad(spec, 'random takes one argument, the test fraction');
      return { kind: 'random', fraction: fraction(spec, args[0]!) };
    case 'temporal-user':
      if (args.length !== 1) bad(spec, 'temporal-user takes one argument, the test fraction');
      return { kind: 'temporal-user', fraction: fraction(spec, args[0]!) };
    case 'temporal-user-last':
      if (args.length !== 1) bad(spec, 'temporal-user-last takes one argument, the number of ratings');
      return { kind: 'temporal-user-last', n: positiveInt(spec, args[0]!, 'n') };
    case 'kfold': {
      if (args.length !== 2) bad(spec, 'kfold takes two arguments, k and the fold');
      const k = positiveInt(spec, args[0]!, 'k');
      const fold = positiveInt(spec, args[1]!, 'the fold');
      if (k < 2) bad(spec, `k must be at least 2, got ${k}`);
      if (fold > k) bad(spec, `the fold must be in 1..${k}, got ${fold}`);
      return { kind: 'kfold', k, fold };
    }
    case 'global-time': {
      const iso = spec.slice(colon + 1);
      if (colon < 0 || !/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(iso))
        bad(spec, 'global-time needs an ISO date such as 2015-01-01 or 2015-01-01T12:00:00Z');
      const withZone = /T|\s/.test(iso) && !/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? `${iso}Z` : iso;
      const ms = Date.parse(withZone);
      if (!Number.isFinite(ms)) bad(spec, `"${iso}" is not a valid date`);
      return { kind: 'global-time', cutoff: Math.floor(ms / 1000), iso };
    }
    default:
      return bad(spec, 'unknown split');
  }
}

/**
 * Splits `all` (the full dataset's ratings) into train and test parts over the same id maps, so index u means
 * the same user in both. GroupLens folds are read from their files in the ml-100k folder; every other split is
 * computed from `all` and depends only on it and the seed.
 */
export function makeSplit(
  all: Interactions,
  spec: string,
  dataset: string,
  options: SplitOptions = {},
): Split {
  const parsed = parseSplitSpec(spec);
  const seed = options.seed ?? DEFAULT_SEED;
  let train: Interactions;
  let test: Interactions;
  let kcore: Split['kcore'];
  if (parsed.kind === 'grouplens') {
    [train, test] = readGroupLensFold(all, parsed.fold, dataset, options.dataDir);
  } else {
    let data = all;
    if (parsed.kcore) {
      // The id maps stay the dataset's (the catalogue is built on them); removed users/items keep no rating.
      const core = filterKCore(all, { ...parsed.kcore, compact: false });
      if (core.data.size === 0)
        throw new ConfigError(
          'split',
          `the ${parsed.kcore.users}/${parsed.kcore.items}-core of ${all.source} is empty: nothing to split`,
        );
      data = core.data;
      const counts = (c: { users: number; items: number; interactions: number }): SplitCounts => ({
        users: c.users,
        items: c.items,
        ratings: c.interactions,
      });
      kcore = { rounds: core.rounds, removed: counts(core.removed), kept: counts(core.kept) };
    }
    const mask = testMask(data, parsed, seed);
    train = data.filter(invert(mask), `${all.source} [${spec} train]`);
    test = data.filter(mask, `${all.source} [${spec} test]`);
  }
  const result = dropUnseen(train, test, options.dropUnseen ?? false);
  const leakage = futureLeakage(train, result.test);
  return { name: spec, spec: parsed, seed, train, ...result, leakage, ...(kcore ? { kcore } : {}) };
}

/**
 * Whether training sees a user's future (what random and k-fold splits do on timestamped data; Cornac warns of
 * it): per test user, a training interaction later than one of their test interactions. Null when either part
 * has no timestamps or nothing leaks (temporal splits: ties in time are not the future).
 */
export function futureLeakage(train: Interactions, test: Interactions): FutureLeakage | null {
  if (!train.timestamps || !test.timestamps || test.size === 0) return null;
  const nUsers = Math.max(train.nUsers, test.nUsers);
  const latestTrain = new Float64Array(nUsers).fill(Number.NEGATIVE_INFINITY);
  for (let r = 0; r < train.size; r++) {
    const u = train.users[r]!;
    const t = train.timestamps[r]!;
    if (t > latestTrain[u]!) latestTrain[u] = t;
  }
  const leaks = new Uint8Array(nUsers);
  const tested = new Uint8Array(nUsers);
  let ratings = 0;
  for (let r = 0; r < test.size; r++) {
    const u = test.users[r]!;
    tested[u] = 1;
    if (test.timestamps[r]! < latestTrain[u]!) {
      leaks[u] = 1;
      ratings++;
    }
  }
  const users = sum(leaks);
  if (users === 0) return null;
  const testUsers = sum(tested);
  const share = (100 * users) / testUsers;
  return {
    users,
    testUsers,
    ratings,
    message:
      `training sees the future of ${users} of ${testUsers} test users (${share.toFixed(1)}%; ${ratings} test ` +
      "ratings are older than their user's latest training rating): a random or k-fold split ignores time, so " +
      'ranking numbers are optimistic; use temporal-user:<fraction>, leave-last-out or global-time:<date> to ' +
      'evaluate forward in time',
  };
}

/** Marks the test rows of `data` under a computed split (1 = test). */
export function testMask(data: Interactions, spec: SplitSpec, seed = DEFAULT_SEED): Uint8Array {
  const n = data.size;
  const mask = new Uint8Array(n);
  switch (spec.kind) {
    case 'grouplens':
      throw new ConfigError('split', `the GroupLens fold ${spec.fold} is read from files, not computed`);
    case 'random': {
      const perm = new Rng(seed).permutation(n);
      const nTest = Math.round(n * spec.fraction);
      for (let k = 0; k < nTest; k++) mask[perm[k]!] = 1;
      return mask;
    }
    case 'kfold': {
      // Position p of a seeded permutation goes to fold p mod k: folds partition the ratings, sizes differ by ≤ 1.
      const perm = new Rng(seed).permutation(n);
      for (let p = spec.fold - 1; p < n; p += spec.k) mask[perm[p]!] = 1;
      return mask;
    }
    case 'global-time': {
      const ts = data.timestamps;
      if (!ts) throw new ConfigError('split', `global-time needs timestamps, and ${data.source} has none`);
      for (let i = 0; i < n; i++) if (ts[i]! >= spec.cutoff) mask[i] = 1;
      return mask;
    }
    default: {
      const { order, indptr } = userTimeOrder(data, spec.kind);
      for (let u = 0; u < data.nUsers; u++) {
        const begin = indptr[u]!;
        const count = indptr[u + 1]! - begin;
        // Every user keeps at least one training rating.
        const nTest = Math.min(count - 1, perUserTest(spec, count));
        for (let k = count - nTest; k < count; k++) mask[order[begin + k]!] = 1;
      }
      return mask;
    }
  }
}

function perUserTest(spec: SplitSpec, count: number): number {
  if (spec.kind === 'temporal-user') return Math.round(count * spec.fraction);
  if (spec.kind === 'temporal-user-last') return spec.n;
  return 1; // leave-last-out
}

function invert(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 0 : 1;
  return out;
}

function readGroupLensFold(
  all: Interactions,
  fold: GroupLensFold,
  dataset: string,
  dataDir: string | undefined,
): [Interactions, Interactions] {
  if (dataset !== 'ml-100k') {
    throw new ConfigError(
      'split',
      `the GroupLens fold ${fold} exists only for ml-100k (dataset is ${dataset})`,
    );
  }
  const dir = datasetDir(resolveDataDir(dataDir), 'ml-100k', `${fold}.base`);
  const format = MOVIELENS['ml-100k'].ratingsFormat;
  const read = (part: 'base' | 'test') =>
    interactionsFromRaw(readRatingsFile(join(dir, `${fold}.${part}`), format), {
      userIds: all.userIds,
      itemIds: all.itemIds,
      unknownContext: 'u.data',
    });
  return [read('base'), read('test')];
}

/**
 * Counts test users/items with no training rating and, when asked, removes their test ratings.
 * Nothing is removed silently: `dropped` says how many users, items and ratings went.
 */
export function dropUnseen(
  train: Interactions,
  test: Interactions,
  mode: SplitOptions['dropUnseen'],
): { test: Interactions; dropped: SplitCounts; unseen: SplitCounts } {
  const seenUser = presence(train.users, train.nUsers);
  const seenItem = presence(train.items, train.nItems);
  const dropUsers = mode === true || mode === 'both' || mode === 'users';
  const dropItems = mode === true || mode === 'both' || mode === 'items';
  const keep = new Uint8Array(test.size);
  const goneUser = new Uint8Array(test.nUsers);
  const goneItem = new Uint8Array(test.nItems);
  let removed = 0;
  for (let k = 0; k < test.size; k++) {
    const u = test.users[k]!;
    const i = test.items[k]!;
    const userUnseen = !seenUser[u];
    const itemUnseen = !seenItem[i];
    if ((dropUsers && userUnseen) || (dropItems && itemUnseen)) {
      removed++;
      if (dropUsers && userUnseen) goneUser[u] = 1;
      if (dropItems && itemUnseen) goneItem[i] = 1;
    } else keep[k] = 1;
  }
  const dropped = { users: sum(goneUser), items: sum(goneItem), ratings: removed };
  const kept = removed > 0 ? test.filter(keep) : test;
  const unseenUser = new Uint8Array(kept.nUsers);
  const unseenItem = new Uint8Array(kept.nItems);
  let unseenRatings = 0;
  for (let k = 0; k < kept.size; k++) {
    const u = kept.users[k]!;
    const i = kept.items[k]!;
    if (!seenUser[u]) unseenUser[u] = 1;
    if (!seenItem[i]) unseenItem[i] = 1;
    if (!seenUser[u] || !seenItem[i]) unseenRatings++;
  }
  return {
    test: kept,
    dropped,
    unseen: { users: sum(unseenUser), items: sum(unseenItem), ratings: unseenRatings },
  };
}

function presence(keys: Int32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < keys.length; k++) out[keys[k]!] = 1;
  return out;
}

function sum(flags: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < flags.length; i++) s += flags[i]!;
  return s;
}

export interface ValidationOptions {
  /** How to carve the validation part: any computed split name (default `random:0.1`). */
  split?: string;
  seed?: number;
  dropUnseen?: SplitOptions['dropUnseen'];
}

export interface ValidationSplit {
  name: string;
  train: Interactions;
  validation: Interactions;
  dropped: SplitCounts;
  unseen: SplitCounts;
}

/**
 * Carves a validation part out of a training part (for early stopping and hyperparameter search), with the
 * same grammar as test splits (GroupLens folds excepted). The seed stream is derived from `seed`, so using
 * the same seed as the test split does not repeat its permutation.
 */
export function validationSplit(train: Interactions, options: ValidationOptions = {}): ValidationSplit {
  const name = options.split ?? 'random:0.1';
  const spec = parseSplitSpec(name);
  if (spec.kind === 'grouplens')
    throw new ConfigError('validation', `a GroupLens fold (${name}) cannot be carved out of a training part`);
  const seed = options.seed ?? DEFAULT_SEED;
  const mask = testMask(train, spec, Rng.derive(seed, 0x7a11d).nextUint32());
  const fit = train.filter(invert(mask), `${train.source} [${name} fit]`);
  const held = train.filter(mask, `${train.source} [${name} validation]`);
  const result = dropUnseen(fit, held, options.dropUnseen ?? false);
  return { name, train: fit, validation: result.test, dropped: result.dropped, unseen: result.unseen };
}
