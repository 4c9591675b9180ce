import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogue, loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { evaluateRatings } from '../../lib/eval/rating';
import { BaselineModel } from '../../lib/models/baseline';
import { GbdtModel } from '../../lib/models/gbdt';
import { binEdges, binOf } from '../../lib/models/gbdt/binning';
import { Booster, type RoundReport, trainBooster } from '../../lib/models/gbdt/booster';
import { loadModel, saveModel } from '../../lib/models/persist';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { importanceFigure } from '../../lib/viz/figures';
import { HAS_ML100K, realDataDir } from '../helpers/data';

/** n rows of f uniform(−1, 1) features and y = target(row). */
function dataset(
  n: number,
  f: number,
  seed: number,
  target: (x: Float32Array, o: number, rng: Rng) => number,
) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * f);
  for (let k = 0; k < x.length; k++) x[k] = rng.next() * 2 - 1;
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) y[r] = target(x, r * f, rng);
  return { x, y, n, f };
}

function rmse(b: Booster, d: { x: Float32Array; y: Float32Array; n: number }): number {
  const p = b.predict(d.x, d.n);
  let s = 0;
  for (let r = 0; r < d.n; r++) s += (p[r]! - d.y[r]!) ** 2;
  return Math.sqrt(s / d.n);
}

// XOR of two signs: no single split helps, so only trees of depth ≥ 2 can represent it.
const xor = (x: Float32Array, o: number) => (x[o]! > 0 ? 1 : -1) * (x[o + 1]! > 0 ? 1 : -1);

describe('binning', () => {
  it('uses each distinct value as an edge when there are few, and quantiles otherwise', () => {
    const x = Float32Array.from([3, 1, 2, 2, Number.NaN, 1]);
    const [edges] = binEdges(x, 6, 1, 16, 1);
    expect(Array.from(edges!)).toEqual([1, 2, 3]);
    expect([1, 2, 3, Number.NaN, 0.5, 9].map((v) => binOf(edges!, v))).toEqual([1, 2, 3, 0, 1, 3]);
    const many = Float32Array.from({ length: 1000 }, (_, k) => k);
    const [q] = binEdges(many, 1000, 1, 4, 1);
    expect(Array.from(q!)).toEqual([249, 499, 749, 999]);
  });
});

describe('booster', () => {
  it('recovers an interaction that additive stumps cannot', () => {
    const train = dataset(4000, 4, 1, xor);
    const test = dataset(2000, 4, 2, xor);
    const stumps = trainBooster(train, { rounds: 100, maxDepth: 1, learningRate: 0.3 });
    const trees = trainBooster(train, { rounds: 100, maxDepth: 3, learningRate: 0.3 });
    expect(rmse(stumps, test)).toBeGreaterThan(0.9);
    expect(rmse(trees, test)).toBeLessThan(0.3);
    const top = trees.importance(['a', 'b', 'c', 'd']);
    expect(
      top
        .slice(0, 2)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(top[2]!.gain).toBeLessThan(0.1 * top[1]!.gain);
  });

  it('ranks the informative feature first and fits a smooth function', () => {
    const target = (x: Float32Array, o: number, rng: Rng) =>
      3 * x[o + 2]! + 0.5 * x[o]! + 0.05 * rng.normal();
    const train = dataset(5000, 5, 3, target);
    const b = trainBooster(train, {
      rounds: 200,
      maxDepth: 3,
      learningRate: 0.1,
      subsample: 0.8,
      colsample: 0.8,
    });
    const imp = b.importance();
    expect(imp[0]!.feature).toBe(2);
    expect(imp[1]!.feature).toBe(0);
    expect(rmse(b, dataset(2000, 5, 4, target))).toBeLessThan(0.15);
  });

  it('routes on raw thresholds exactly as training routed on bins, NaN included', () => {
    const target = (x: Float32Array, o: number) => (Number.isNaN(x[o]!) ? 2 : x[o]! * x[o + 1]!);
    const d = dataset(3000, 3, 5, target);
    for (let r = 0; r < d.n; r += 7) {
      d.x[r * 3] = Number.NaN;
      d.y[r] = 2;
    }
    const reports: RoundReport[] = [];
    const b = trainBooster(d, { rounds: 30, maxDepth: 4, maxBins: 16 }, undefined, (r) => reports.push(r));
    // The training loss tracked on bins equals the RMSE of predictions from raw values.
    expect(rmse(b, d)).toBeCloseTo(reports[29]!.trainLoss, 5);
    expect(Math.abs(b.predict(Float32Array.from([Number.NaN, 0.3, 0]), 1)[0]! - 2)).toBeLessThan(0.15);
  });

  it('fits a logistic objective and stops early on validation', () => {
    const target = (x: Float32Array, o: number) => (x[o]! + x[o + 1]! > 0 ? 1 : 0);
    const train = dataset(3000, 3, 6, target);
    const valid = dataset(1000, 3, 7, target);
    const b = trainBooster(
      train,
      { objective: 'logistic', rounds: 500, earlyStoppingRounds: 10, learningRate: 0.5 },
      valid,
    );
    expect(b.trees).toBeLessThan(500);
    const p = b.predict(valid.x, valid.n);
    let correct = 0;
    for (let r = 0; r < valid.n; r++) if ((p[r]! > 0.5 ? 1 : 0) === valid.y[r]) correct++;
    expect(correct / valid.n).toBeGreaterThan(0.95);
    expect(() =>
      trainBooster({ ...train, y: Float32Array.from(train.y, (v) => v * 2) }, { objective: 'logistic' }),
    ).toThrow(/0\/1 targets/);
  });

  it('is deterministic for a seed, and a state round trip keeps predictions', () => {
    const d = dataset(2000, 4, 8, xor);
    const opts = { rounds: 20, subsample: 0.7, colsample: 0.5, seed: 9 };
    const a = trainBooster(d, opts);
    const b = trainBooster(d, opts);
    expect(Array.from(b.predict(d.x, d.n))).toEqual(Array.from(a.predict(d.x, d.n)));
    const c = Booster.fromState(a.toState('t.'), 't.');
    expect(Array.from(c.predict(d.x, d.n))).toEqual(Array.from(a.predict(d.x, d.n)));
    const broken = a.toState('t.');
    broken['t.left'] = new Int32Array((broken['t.left'] as Int32Array).length);
    expect(() => Booster.fromState(broken, 't.')).toThrow(/malformed|different lengths/);
  });
});

describe('gbdt model', () => {
  it('needs movie content', async () => {
    const all = loadRatings('synthetic:2000');
    await expect(new GbdtModel().fit(all)).rejects.toThrow(ConfigError);
    await expect(new GbdtModel().fit(all)).rejects.toThrow(/pass fit\(train, \{ catalogue \}\)/);
  });
});

describe.runIf(HAS_ML100K)('gbdt on ml-100k u1 (real data)', () => {
  it('beats the baseline, ranks CF/statistics features first, and round-trips', async () => {
    const dataDir = realDataDir();
    const all = loadRatings('ml-100k', { dataDir });
    const split = makeSplit(all, 'u1', 'ml-100k', { dataDir });
    const baseline = new BaselineModel();
    await baseline.fit(split.train);
    const base = evaluateRatings(baseline, split.test).rmse;
    const m = new GbdtModel({ rounds: 150, learningRate: 0.1 });
    await m.fit(split.train, { catalogue: loadCatalogue('ml-100k', all.itemIds, { dataDir }) });
    const rmseGbdt = evaluateRatings(m, split.test).rmse;
    expect(rmseGbdt).toBeLessThan(base - 0.01);
    const imp = m.importance();
    expect(imp[0]!.name).toMatch(/^(cf:|item:mean|user:mean)/);
    expect(imp.some((r) => r.name.startsWith('item:genre:') && r.splits > 0)).toBe(true);
    const fig = importanceFigure(imp, 10);
    expect((fig.data[0]!.y as string[]).length).toBe(10);

    const dir = mkdtempSync(join(tmpdir(), 'reelab-gbdt-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const users = split.test.users.subarray(0, 500);
    const items = split.test.items.subarray(0, 500);
    expect(Array.from(model.predict(users, items))).toEqual(Array.from(m.predict(users, items)));
    expect(Array.from(model.recommend(5, 10).items)).toEqual(Array.from(m.recommend(5, 10).items));
  }, 300_000);
});
