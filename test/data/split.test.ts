import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { makeSplit, parseSplitSpec, SPLIT_GRAMMAR, validationSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { ConfigError } from '../../lib/util/errors';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

/**
 * users 0,1,2; items 0..3. Rows (user, item, rating, ts):
 * 0: (0,0,5,10) 1: (0,1,4,30) 2: (0,2,3,20) 3: (0,3,2,30)   ← user 0: a timestamp tie at 30 (items 1 and 3)
 * 4: (1,0,1,5)  5: (1,1,2,6)
 * 6: (2,3,3,100)                                             ← a user with a single rating
 */
function tiny(): Interactions {
  return new Interactions({
    users: Int32Array.from([0, 0, 0, 0, 1, 1, 2]),
    items: Int32Array.from([0, 1, 2, 3, 0, 1, 3]),
    ratings: Float32Array.from([5, 4, 3, 2, 1, 2, 3]),
    timestamps: Int32Array.from([10, 30, 20, 30, 5, 6, 100]),
    userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
    itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
    source: 'tiny',
  });
}

const pairs = (x: Interactions) =>
  Array.from({ length: x.size }, (_, k) => `${x.users[k]}:${x.items[k]}`).sort();

describe('split grammar', () => {
  it('parses every documented form', () => {
    expect(parseSplitSpec('u3')).toEqual({ kind: 'grouplens', fold: 'u3' });
    expect(parseSplitSpec('random:0.2')).toEqual({ kind: 'random', fraction: 0.2 });
    expect(parseSplitSpec('kfold:5:2')).toEqual({ kind: 'kfold', k: 5, fold: 2 });
    expect(parseSplitSpec('temporal-user:0.25')).toEqual({ kind: 'temporal-user', fraction: 0.25 });
    expect(parseSplitSpec('temporal-user-last:3')).toEqual({ kind: 'temporal-user-last', n: 3 });
    expect(parseSplitSpec('leave-last-out')).toEqual({ kind: 'leave-last-out' });
    expect(parseSplitSpec('global-time:2015-01-01')).toEqual({
      kind: 'global-time',
      cutoff: 1420070400,
      iso: '2015-01-01',
    });
    expect(parseSplitSpec('global-time:2015-01-01T12:00:00Z').kind).toBe('global-time');
  });

  it.each([
    'u6',
    'random',
    'random:1.5',
    'random:0',
    'random:abc',
    'kfold:5',
    'kfold:5:0',
    'kfold:5:6',
    'kfold:1:1',
    'temporal-user:2',
    'temporal-user-last:0',
    'global-time:yesterday',
    'global-time:2015-13-45',
    'holdout',
  ])('rejects "%s" with a ConfigError that lists the grammar', (spec) => {
    let error: unknown;
    try {
      parseSplitSpec(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('split');
    expect((error as Error).message).toContain(spec);
    expect((error as Error).message).toContain(SPLIT_GRAMMAR);
  });
});

describe('computed splits (hand-checked on a tiny set)', () => {
  it('leave-last-out: each user’s latest rating, ties broken by item, single-rating users stay in train', () => {
    const s = makeSplit(tiny(), 'leave-last-out', 'tiny');
    // user 0: ts 30 twice (items 1 and 3) → the later in (ts, item) order is item 3.
    expect(pairs(s.test)).toEqual(['0:3', '1:1']);
    expect(s.train.size + s.test.size).toBe(7);
    expect(s.train.userIds).toBe(s.test.userIds);
  });

  it('temporal-user:0.5 and temporal-user-last:2 take the latest ratings per user', () => {
    const half = makeSplit(tiny(), 'temporal-user:0.5', 'tiny');
    // user 0 order by (ts, item): item0@10, item2@20, item1@30, item3@30 → last 2: items 1, 3. user 1: last 1.
    expect(pairs(half.test)).toEqual(['0:1', '0:3', '1:1']);
    const last2 = makeSplit(tiny(), 'temporal-user-last:2', 'tiny');
    // user 1 has only 2 ratings and keeps one for training.
    expect(pairs(last2.test)).toEqual(['0:1', '0:3', '1:1']);
  });

  it('global-time: ratings at or after the cutoff', () => {
    const s = makeSplit(tiny(), 'global-time:1970-01-01T00:00:30Z', 'tiny');
    expect(pairs(s.test)).toEqual(['0:1', '0:3', '2:3']);
  });

  it('kfold: the k test folds partition the ratings, sizes differ by at most one', () => {
    const data = generateSynthetic({ ratings: 5000, seed: 3 }).ratings;
    const seen = new Uint8Array(data.size);
    const sizes: number[] = [];
    for (let f = 1; f <= 5; f++) {
      const s = makeSplit(data, `kfold:5:${f}`, 'synthetic', { seed: 9 });
      sizes.push(s.test.size);
      expect(s.train.size + s.test.size).toBe(data.size);
      const key = new Map<string, number>();
      for (let k = 0; k < data.size; k++) key.set(`${data.users[k]}:${data.items[k]}`, k);
      for (let k = 0; k < s.test.size; k++) seen[key.get(`${s.test.users[k]}:${s.test.items[k]}`)!]!++;
    }
    expect(Math.max(...seen)).toBe(1);
    expect(Math.min(...seen)).toBe(1);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('random: the exact test count, reproducible from the seed, different for another seed', () => {
    const data = generateSynthetic({ ratings: 2000, seed: 1 }).ratings;
    const a = makeSplit(data, 'random:0.2', 'synthetic', { seed: 7 });
    const b = makeSplit(data, 'random:0.2', 'synthetic', { seed: 7 });
    const c = makeSplit(data, 'random:0.2', 'synthetic', { seed: 8 });
    expect(a.test.size).toBe(400);
    expect(pairs(a.test)).toEqual(pairs(b.test));
    expect(pairs(a.test)).not.toEqual(pairs(c.test));
  });

  it('dropUnseen removes test ratings of users/items unseen in training and reports the counts', () => {
    // global-time:…:100 puts user 2's only rating (item 3) in test; item 3 is also rated by user 0 in train.
    const keep = makeSplit(tiny(), 'global-time:1970-01-01T00:01:40Z', 'tiny');
    expect(keep.dropped).toEqual({ users: 0, items: 0, ratings: 0 });
    expect(keep.unseen).toEqual({ users: 1, items: 0, ratings: 1 });
    const drop = makeSplit(tiny(), 'global-time:1970-01-01T00:01:40Z', 'tiny', { dropUnseen: true });
    expect(drop.dropped).toEqual({ users: 1, items: 0, ratings: 1 });
    expect(drop.test.size).toBe(0);
    expect(drop.unseen).toEqual({ users: 0, items: 0, ratings: 0 });
    // Only items: user 2 is unseen but its item is known, so nothing goes.
    const items = makeSplit(tiny(), 'global-time:1970-01-01T00:01:40Z', 'tiny', { dropUnseen: 'items' });
    expect(items.dropped).toEqual({ users: 0, items: 0, ratings: 0 });
    // An item only in test: cutoff 30 puts items 1 and 3 of user 0 and user 2's item 3 in test; item 3 unseen.
    const s = makeSplit(tiny(), 'global-time:1970-01-01T00:00:30Z', 'tiny', { dropUnseen: 'items' });
    expect(s.dropped).toEqual({ users: 0, items: 1, ratings: 2 });
    expect(pairs(s.test)).toEqual(['0:1']);
  });

  it('temporal splits need timestamps', () => {
    const t = tiny();
    const noTime = new Interactions({ ...t, timestamps: null, userIds: t.userIds, itemIds: t.itemIds });
    expect(() => makeSplit(noTime, 'leave-last-out', 'x')).toThrow(ConfigError);
    expect(() => makeSplit(noTime, 'global-time:2000-01-01', 'x')).toThrow(ConfigError);
  });

  it('GroupLens folds exist only for ml-100k', () => {
    expect(() => makeSplit(tiny(), 'u1', 'ml-latest-small')).toThrow(ConfigError);
  });
});

describe('validation helper', () => {
  it('carves a validation part out of a training part, reproducibly, with the same id maps', () => {
    const data = generateSynthetic({ ratings: 3000, seed: 2 }).ratings;
    const split = makeSplit(data, 'random:0.2', 'synthetic', { seed: 1 });
    const v1 = validationSplit(split.train, { split: 'random:0.1', seed: 1 });
    const v2 = validationSplit(split.train, { split: 'random:0.1', seed: 1 });
    expect(v1.validation.size).toBe(Math.round(split.train.size * 0.1));
    expect(v1.train.size + v1.validation.size).toBe(split.train.size);
    expect(pairs(v1.validation)).toEqual(pairs(v2.validation));
    expect(v1.train.itemIds).toBe(data.itemIds);
    const lastOut = validationSplit(split.train, { split: 'leave-last-out' });
    expect(lastOut.validation.size).toBeGreaterThan(0);
    expect(() => validationSplit(split.train, { split: 'u1' })).toThrow(ConfigError);
  });
});

describe.runIf(HAS_ML100K)('splits on ml-100k (real files)', () => {
  const dataDir = realDataDir();
  const all = loadRatings('ml-100k', { dataDir });

  it.each(['u2', 'ua', 'ub'])('%s base + test cover u.data exactly', (fold) => {
    const s = makeSplit(all, fold, 'ml-100k', { dataDir });
    expect(s.train.size + s.test.size).toBe(100000);
    expect([...pairs(s.train), ...pairs(s.test)].sort()).toEqual(pairs(all));
  });

  it('ua holds out exactly 10 ratings per user', () => {
    const s = makeSplit(all, 'ua', 'ml-100k', { dataDir });
    const counts = s.test.userCounts();
    expect(Math.min(...counts)).toBe(10);
    expect(Math.max(...counts)).toBe(10);
  });

  it.each(['random:0.2', 'kfold:5:3', 'temporal-user:0.2', 'temporal-user-last:5', 'leave-last-out'])(
    '%s is reproducible from its seed',
    (spec) => {
      const a = makeSplit(all, spec, 'ml-100k', { seed: 11 });
      const b = makeSplit(all, spec, 'ml-100k', { seed: 11 });
      expect(Array.from(a.test.users)).toEqual(Array.from(b.test.users));
      expect(Array.from(a.test.items)).toEqual(Array.from(b.test.items));
      expect(a.train.size + a.test.size).toBe(100000);
    },
  );

  it('leave-last-out puts one rating of every user in test, the latest one', () => {
    const s = makeSplit(all, 'leave-last-out', 'ml-100k');
    expect(s.test.size).toBe(943);
    const latest = new Int32Array(943).fill(-1);
    for (let k = 0; k < s.train.size; k++) {
      const u = s.train.users[k]!;
      latest[u] = Math.max(latest[u]!, s.train.timestamps![k]!);
    }
    for (let k = 0; k < s.test.size; k++)
      expect(s.test.timestamps![k]!).toBeGreaterThanOrEqual(latest[s.test.users[k]!]!);
  });
});

describe.runIf(HAS_ML_LATEST_SMALL)('splits on ml-latest-small (real files)', () => {
  it('global-time splits at the cutoff and reports unseen users it drops', () => {
    const all = loadRatings('ml-latest-small', { dataDir: realDataDir() });
    const s = makeSplit(all, 'global-time:2015-01-01', 'ml-latest-small', { dropUnseen: 'users' });
    for (let k = 0; k < s.train.size; k++) expect(s.train.timestamps![k]!).toBeLessThan(1420070400);
    expect(s.dropped.users).toBeGreaterThan(0);
    expect(s.train.size + s.test.size + s.dropped.ratings).toBe(100836);
    expect(s.unseen.users).toBe(0);
  });
});
