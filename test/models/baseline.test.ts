import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { evaluateRatings } from '../../lib/eval/rating';
import { BaselineModel } from '../../lib/models/baseline';
import { GlobalMeanModel } from '../../lib/models/global-mean';
import { loadModel, saveModel } from '../../lib/models/persist';
import { HAS_ML100K, realDataDir } from '../helpers/data';

function tiny(): Interactions {
  // users 0,1; items 0,1,2
  return new Interactions({
    users: Int32Array.from([0, 0, 1, 1, 1]),
    items: Int32Array.from([0, 1, 0, 1, 2]),
    ratings: Float32Array.from([5, 3, 4, 2, 1]),
    userIds: IdMap.fromSorted(Int32Array.from([10, 20])),
    itemIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
  });
}

describe('baseline', () => {
  it('ALS with zero regularisation and one epoch gives item means, then user mean residuals', async () => {
    const m = new BaselineModel({ method: 'als', epochs: 1, regUser: 0, regItem: 0 });
    await m.fit(tiny());
    const { mean, user, item } = m.biases;
    expect(mean).toBeCloseTo(3, 6);
    // b_i = mean(r - μ) over the item's ratings (b_u = 0 at first)
    expect(Array.from(item)).toEqual([1.5, -0.5, -2].map((x) => expect.closeTo(x, 6)));
    // b_u = mean(r - μ - b_i)
    expect(user[0]).toBeCloseTo((5 - 3 - 1.5 + (3 - 3 + 0.5)) / 2, 6);
    expect(user[1]).toBeCloseTo((4 - 3 - 1.5 + (2 - 3 + 0.5) + (1 - 3 + 2)) / 3, 6);
  });

  it('regularisation shrinks biases towards zero', async () => {
    const strong = new BaselineModel({ epochs: 5, regUser: 1000, regItem: 1000 });
    await strong.fit(tiny());
    for (const b of strong.biases.item) expect(Math.abs(b)).toBeLessThan(0.01);
  });

  it('clips predictions and gives unknown users the item bias only', async () => {
    const m = new BaselineModel({ epochs: 3, regUser: 0, regItem: 0 });
    await m.fit(tiny());
    const p = m.predict(Int32Array.from([-1, 0]), Int32Array.from([0, 0]));
    expect(p[0]).toBeCloseTo(m.biases.mean + m.biases.item[0]!, 6);
    expect(p[1]).toBeLessThanOrEqual(5);
  });

  it('recommend excludes seen items', async () => {
    const m = new BaselineModel();
    await m.fit(tiny());
    const top = m.recommend(0, 5);
    expect(Array.from(top.items)).toEqual([2]);
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new BaselineModel({ method: 'sgd' });
    await m.fit(tiny());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-model-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const users = Int32Array.from([0, 1, 1]);
    const items = Int32Array.from([2, 0, 1]);
    expect(Array.from(model.predict(users, items))).toEqual(Array.from(m.predict(users, items)));
    expect(model.params).toEqual(m.params);
  });

  it.runIf(HAS_ML100K)(
    'scores a regularised-bias RMSE on ml-100k u1 (Surprise BaselineOnly ≈ 0.96 on u1)',
    async () => {
      const dataDir = realDataDir();
      const split = makeSplit(loadRatings('ml-100k', { dataDir }), 'u1', 'ml-100k', { dataDir });
      const m = new BaselineModel();
      await m.fit(split.train);
      const { rmse } = evaluateRatings(m, split.test);
      expect(rmse).toBeGreaterThan(0.94);
      expect(rmse).toBeLessThan(0.97);
    },
  );
});

describe('baseline (Surprise BaselineOnly semantics)', () => {
  it('SGD follows baseline_sgd: users in order, b += lr (err − reg b), err before both updates', async () => {
    const m = new BaselineModel({ method: 'sgd', epochs: 1, reg: 0.1, learningRate: 0.5 });
    await m.fit(tiny());
    const mu = 3;
    const bu = [0, 0];
    const bi = [0, 0, 0];
    const rows: Array<[number, number, number]> = [
      [0, 0, 5],
      [0, 1, 3],
      [1, 0, 4],
      [1, 1, 2],
      [1, 2, 1],
    ];
    for (const [u, i, r] of rows) {
      const err = r - (mu + bu[u]! + bi[i]!);
      bu[u]! += 0.5 * (err - 0.1 * bu[u]!);
      bi[i]! += 0.5 * (err - 0.1 * bi[i]!);
    }
    expect(Array.from(m.biases.user)).toEqual(bu.map((x) => expect.closeTo(x, 6)));
    expect(Array.from(m.biases.item)).toEqual(bi.map((x) => expect.closeTo(x, 6)));
  });

  it('global mean predicts the training mean everywhere and round-trips', async () => {
    const m = new GlobalMeanModel();
    await m.fit(tiny());
    expect(Array.from(m.predict(Int32Array.of(0, 1, -1), Int32Array.of(2, 0, 1)))).toEqual([3, 3, 3]);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-gm-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    expect(model.predict(Int32Array.of(1), Int32Array.of(1))[0]).toBe(3);
  });

  it.runIf(HAS_ML100K)('reproduces Surprise BaselineOnly on ml-100k u1: ALS 0.9599, SGD 0.9561', async () => {
    const dataDir = realDataDir();
    const split = makeSplit(loadRatings('ml-100k', { dataDir }), 'u1', 'ml-100k', { dataDir });
    const als = new BaselineModel();
    await als.fit(split.train);
    expect(evaluateRatings(als, split.test).rmse).toBeCloseTo(0.9599, 4);
    const sgd = new BaselineModel({ method: 'sgd' });
    await sgd.fit(split.train);
    expect(evaluateRatings(sgd, split.test).rmse).toBeCloseTo(0.9561, 4);
  });
});
