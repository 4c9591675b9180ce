import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { evaluateRatings } from '../../lib/eval/rating';
import { BaselineModel } from '../../lib/models/baseline';
import { KnnModel } from '../../lib/models/knn';
import { loadModel, saveModel } from '../../lib/models/persist';
import { HAS_ML100K, realDataDir } from '../helpers/data';

/** 4 users × 4 items, hand-written; user 3 did not rate item 3. */
function tiny(): Interactions {
  const rows = [
    [0, 0, 5],
    [0, 1, 3],
    [0, 2, 4],
    [0, 3, 1],
    [1, 0, 4],
    [1, 1, 2],
    [1, 3, 2],
    [2, 0, 1],
    [2, 1, 5],
    [2, 2, 2],
    [2, 3, 4],
    [3, 0, 3],
    [3, 1, 3],
    [3, 2, 5],
  ];
  return new Interactions({
    users: Int32Array.from(rows.map((r) => r[0]!)),
    items: Int32Array.from(rows.map((r) => r[1]!)),
    ratings: Float32Array.from(rows.map((r) => r[2]!)),
    userIds: IdMap.fromSorted(Int32Array.of(1, 2, 3, 4, 5)),
    itemIds: IdMap.fromSorted(Int32Array.of(1, 2, 3, 4)),
  });
}

/** Direct (dense) item-item similarity of Surprise's formulas, for checking. */
function bruteSimilarity(
  data: Interactions,
  a: number,
  b: number,
  name: string,
  bias?: { mu: number; bu: Float32Array; bi: Float32Array },
  shrinkage = 100,
): number {
  const common: Array<[number, number, number]> = [];
  for (let u = 0; u < data.nUsers; u++) {
    const ra = data.rating(u, a);
    const rb = data.rating(u, b);
    if (!Number.isNaN(ra) && !Number.isNaN(rb)) common.push([u, ra, rb]);
  }
  const n = common.length;
  if (n === 0) return 0;
  if (name === 'cosine') {
    const num = common.reduce((s, [, x, y]) => s + x * y, 0);
    return (
      num / Math.sqrt(common.reduce((s, [, x]) => s + x * x, 0) * common.reduce((s, [, , y]) => s + y * y, 0))
    );
  }
  if (name === 'msd') return 1 / (common.reduce((s, [, x, y]) => s + (x - y) ** 2, 0) / n + 1);
  if (name === 'pearson') {
    const mx = common.reduce((s, [, x]) => s + x, 0) / n;
    const my = common.reduce((s, [, , y]) => s + y, 0) / n;
    const num = common.reduce((s, [, x, y]) => s + (x - mx) * (y - my), 0);
    const den = Math.sqrt(
      common.reduce((s, [, x]) => s + (x - mx) ** 2, 0) * common.reduce((s, [, , y]) => s + (y - my) ** 2, 0),
    );
    return den === 0 ? 0 : num / den;
  }
  if (n < 2) return 0;
  const { mu, bu, bi } = bias!;
  const dx = common.map(([u, x]) => x - (mu + bu[u]! + bi[a]!));
  const dy = common.map(([u, , y]) => y - (mu + bu[u]! + bi[b]!));
  const num = dx.reduce((s, v, t) => s + v * dy[t]!, 0);
  const den = Math.sqrt(dx.reduce((s, v) => s + v * v, 0) * dy.reduce((s, v) => s + v * v, 0));
  return (num / den) * ((n - 1) / (n - 1 + shrinkage));
}

describe('knn similarities', () => {
  for (const name of ['cosine', 'msd', 'pearson', 'pearson-baseline'] as const) {
    it(`${name} matches the direct formula on every item pair (positive part kept)`, async () => {
      const data = tiny();
      const m = new KnnModel(false, { similarity: name, shrinkage: 3 });
      await m.fit(data);
      const bsl = new BaselineModel();
      await bsl.fit(data);
      const bias = { mu: data.mean(), bu: bsl.biases.user, bi: bsl.biases.item };
      for (let a = 0; a < 4; a++)
        for (let b = 0; b < 4; b++) {
          const want = a === b ? 1 : Math.max(0, bruteSimilarity(data, a, b, name, bias, 3));
          expect(m.similarity(a, b)).toBeCloseTo(want, 5);
        }
    });
  }

  it('min support zeroes pairs with too few common raters', async () => {
    const m = new KnnModel(false, { similarity: 'msd', minSupport: 4 });
    await m.fit(tiny());
    // items 0 and 1 share 4 raters, items 0 and 3 share 3
    expect(m.similarity(0, 1)).toBeGreaterThan(0);
    expect(m.similarity(0, 3)).toBe(0);
  });

  it('gives the same rows with 1 and 2 threads, and maxNeighbors keeps the most similar', async () => {
    const data = generateSynthetic({ ratings: 15000, seed: 4 }).ratings;
    const one = new KnnModel(true, { similarity: 'pearson' });
    const two = new KnnModel(true, { similarity: 'pearson' });
    await one.fit(data, { threads: 1 });
    await two.fit(data, { threads: 2 });
    expect(two.neighbourCount).toBe(one.neighbourCount);
    const u = Int32Array.from({ length: 500 }, (_, t) => t % data.nUsers);
    const i = Int32Array.from({ length: 500 }, (_, t) => (t * 31) % data.nItems);
    expect(Array.from(two.predict(u, i))).toEqual(Array.from(one.predict(u, i)));
    const capped = new KnnModel(true, { similarity: 'pearson', maxNeighbors: 5 });
    await capped.fit(data);
    expect(capped.neighbourCount).toBeLessThanOrEqual(5 * data.nUsers);
    for (let x = 0; x < 10; x++) {
      const sims: number[] = [];
      for (let y = 0; y < data.nUsers; y++) sims.push(one.similarity(x, y));
      const top5 = sims.sort((a, b) => b - a).slice(0, 5);
      const kept: number[] = [];
      for (let y = 0; y < data.nUsers; y++)
        if (capped.similarity(x, y) > 0) kept.push(capped.similarity(x, y));
      expect(kept.sort((a, b) => b - a)).toEqual(top5.filter((s) => s > 0).map((s) => expect.closeTo(s, 6)));
    }
  });
});

describe('knn predictions', () => {
  it('basic / means / baseline aggregate the k most similar raters (hand-computed)', async () => {
    const data = tiny();
    // predict user 3 on item 3 (item-based): neighbours = items 0, 1, 2 that user 3 rated
    const basic = new KnnModel(false, { similarity: 'cosine', k: 2 });
    await basic.fit(data);
    const s = [0, 1, 2].map((j) => basic.similarity(3, j));
    const r = [3, 3, 5];
    const top = [0, 1, 2].sort((x, y) => s[y]! - s[x]!).slice(0, 2);
    const want = top.reduce((acc, j) => acc + s[j]! * r[j]!, 0) / top.reduce((acc, j) => acc + s[j]!, 0);
    expect(basic.predict(Int32Array.of(3), Int32Array.of(3))[0]).toBeCloseTo(want, 5);

    const means = new KnnModel(false, { similarity: 'cosine', k: 2, variant: 'means' });
    await means.fit(data);
    const mean = (i: number) => {
      let t = 0;
      let n = 0;
      for (let u = 0; u < 4; u++) {
        const v = data.rating(u, i);
        if (!Number.isNaN(v)) {
          t += v;
          n++;
        }
      }
      return t / n;
    };
    const wantMeans =
      mean(3) +
      top.reduce((acc, j) => acc + s[j]! * (r[j]! - mean(j)), 0) / top.reduce((acc, j) => acc + s[j]!, 0);
    expect(means.predict(Int32Array.of(3), Int32Array.of(3))[0]).toBeCloseTo(Math.min(5, wantMeans), 5);

    const baseline = new KnnModel(false, { similarity: 'cosine', k: 2, variant: 'baseline' });
    await baseline.fit(data);
    const bsl = new BaselineModel();
    await bsl.fit(data);
    const { mean: mu, user: bu, item: bi } = bsl.biases;
    const wantBsl =
      mu +
      bu[3]! +
      bi[3]! +
      top.reduce((acc, j) => acc + s[j]! * (r[j]! - (mu + bu[3]! + bi[j]!)), 0) /
        top.reduce((acc, j) => acc + s[j]!, 0);
    expect(baseline.predict(Int32Array.of(3), Int32Array.of(3))[0]).toBeCloseTo(wantBsl, 4);
  });

  it('falls back like Surprise: global mean (basic), baseline for unknown user, minK', async () => {
    const data = tiny();
    const basic = new KnnModel(true, { similarity: 'msd' });
    await basic.fit(data);
    // user 4 has no ratings: PredictionImpossible → global mean
    expect(basic.predict(Int32Array.of(4), Int32Array.of(0))[0]).toBeCloseTo(data.mean(), 5);
    const strict = new KnnModel(true, { similarity: 'msd', minK: 10, variant: 'baseline' });
    await strict.fit(data);
    const bsl = new BaselineModel();
    await bsl.fit(data);
    const { mean: mu, user: bu, item: bi } = bsl.biases;
    expect(strict.predict(Int32Array.of(3), Int32Array.of(3))[0]).toBeCloseTo(mu + bu[3]! + bi[3]!, 5);
    expect(strict.predict(Int32Array.of(4), Int32Array.of(3))[0]).toBeCloseTo(mu + bi[3]!, 5);
  });

  it('recommend ranks unseen items by predicted rating; save/load round-trips bit-identically', async () => {
    const data = generateSynthetic({ ratings: 8000, seed: 2 }).ratings;
    const m = new KnnModel(false, { similarity: 'pearson-baseline', variant: 'baseline' });
    await m.fit(data);
    const all = new Float32Array(data.nItems);
    m.scoreAll(3, all);
    const top = m.recommend(3, 5);
    const seen = new Set(m.seenItems(3));
    for (const i of top.items) expect(seen.has(i)).toBe(false);
    expect(top.scores[0]).toBe(all[top.items[0]!]);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-knn-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    expect(model.name).toBe('knn-rating-item');
    const u = Int32Array.from({ length: 400 }, (_, t) => t % data.nUsers);
    const i = Int32Array.from({ length: 400 }, (_, t) => (t * 17) % data.nItems);
    expect(Array.from(model.predict(u, i))).toEqual(Array.from(m.predict(u, i)));
  });

  it.runIf(HAS_ML100K)(
    'KNNBaseline (item, pearson-baseline) reproduces Surprise on ml-100k u1: 0.9359',
    async () => {
      const dataDir = realDataDir();
      const split = makeSplit(loadRatings('ml-100k', { dataDir }), 'u1', 'ml-100k', { dataDir });
      const m = new KnnModel(false, { variant: 'baseline', similarity: 'pearson-baseline' });
      await m.fit(split.train, { threads: 2 });
      expect(evaluateRatings(m, split.test).rmse).toBeCloseTo(0.9359, 3);
    },
  );
});
