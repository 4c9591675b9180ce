import { describe, expect, it } from 'vitest';
import { movieCatalogue } from '../../lib/data/catalogue';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { evaluateRatings } from '../../lib/eval/rating';
import {
  type EnsembleModel,
  linearStack,
  logisticStack,
  memberPlacement,
  solveQuadratic,
  validationSlice,
} from '../../lib/models/ensemble';
import { rankingRows } from '../../lib/models/ensemble/validation';
import { loadModel, saveModel } from '../../lib/models/persist';
import { createModel } from '../../lib/models/registry';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { useTempDir } from '../helpers/mlflow';

const synthetic = generateSynthetic({ ratings: 12000, seed: 7 });
const data = synthetic.ratings;
const rows = Int32Array.from({ length: data.size }, (_, i) => i);
const train = data.select(rows.filter((r) => r % 5 !== 0));
const test = data.select(rows.filter((r) => r % 5 === 0));
const MEMBERS = [
  { model: 'baseline' },
  { model: 'svd', params: { factors: 8, epochs: 12 } },
  { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline', k: 20 } },
];

function randomFeatures(n: number, seed: number, correlated = false): [Float32Array, Float32Array] {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    a[t] = 3 + rng.normal();
    b[t] = correlated ? a[t]! + 0.5 * rng.normal() : 3 + rng.normal();
  }
  return [a, b];
}

describe('stacking solvers', () => {
  it('least squares with an intercept recovers the weights of an exact linear blend', () => {
    const [p1, p2] = randomFeatures(500, 1);
    const y = Float64Array.from(p1, (v, t) => 0.7 + 0.3 * v + 0.6 * p2[t]!);
    for (const nonNegative of [false, true]) {
      const w = linearStack([p1, p2], y, { ridge: 0, nonNegative });
      expect(w.intercept).toBeCloseTo(0.7, 9);
      expect(w.weights[0]).toBeCloseTo(0.3, 9);
      expect(w.weights[1]).toBeCloseTo(0.6, 9);
    }
  });

  it('non-negative least squares: hand-computed case and KKT on a blend with a negative weight', () => {
    // min ½wᵀAw − bᵀw with A = [[2,1],[1,2]], b = [1,−1]: unconstrained w = (1, −1); with w ≥ 0: w = (½, 0).
    const A = Float64Array.of(2, 1, 1, 2);
    const free = solveQuadratic(A.slice(), Float64Array.of(1, -1), 2, Uint8Array.of(1, 1));
    expect(free[0]).toBeCloseTo(1, 12);
    expect(free[1]).toBeCloseTo(-1, 12);
    const bounded = solveQuadratic(A.slice(), Float64Array.of(1, -1), 2, null);
    expect(bounded[0]).toBeCloseTo(0.5, 12);
    expect(bounded[1]).toBe(0);

    const [p1, p2] = randomFeatures(400, 2, true);
    const y = Float64Array.from(p1, (v, t) => 1 + 2 * v - 0.5 * p2[t]!);
    const unconstrained = linearStack([p1, p2], y, { ridge: 0, nonNegative: false });
    expect(unconstrained.weights[1]).toBeCloseTo(-0.5, 9);
    const nn = linearStack([p1, p2], y, { ridge: 0, nonNegative: true });
    expect(nn.weights[1]).toBe(0);
    // With w₂ = 0 the answer is simple regression of y on p1: slope cov(p1, y) / var(p1).
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0) / v.length;
    const m1 = mean(p1);
    const my = mean(y);
    let cov = 0;
    let v1 = 0;
    for (let t = 0; t < y.length; t++) {
      cov += (p1[t]! - m1) * (y[t]! - my);
      v1 += (p1[t]! - m1) ** 2;
    }
    expect(nn.weights[0]).toBeCloseTo(cov / v1, 9);
    expect(nn.intercept).toBeCloseTo(my - (cov / v1) * m1, 9);
    // KKT: at w₂ = 0 the loss must not decrease when w₂ grows, i.e. p2 correlates negatively with the residual.
    let g = 0;
    for (let t = 0; t < y.length; t++)
      g += (p2[t]! - mean(p2)) * (y[t]! - nn.intercept - nn.weights[0]! * p1[t]!);
    expect(g).toBeLessThanOrEqual(0);
  });

  it('ridge shrinks the member weights towards zero', () => {
    const [p1, p2] = randomFeatures(300, 3);
    const y = Float64Array.from(p1, (v, t) => 0.5 * v + 0.5 * p2[t]!);
    const w = linearStack([p1, p2], y, { ridge: 1, nonNegative: false });
    expect(w.weights[0]).toBeGreaterThan(0.1);
    expect(w.weights[0]).toBeLessThan(0.4);
  });

  it('logistic stacking recovers the weights that generated the labels, and respects non-negativity', () => {
    const rng = new Rng(11);
    const n = 40000;
    const x1 = new Float32Array(n);
    const x2 = new Float32Array(n);
    const labels = new Uint8Array(n);
    for (let t = 0; t < n; t++) {
      x1[t] = rng.normal();
      x2[t] = rng.normal();
      const eta = -1 + 1.5 * x1[t]! - 0.8 * x2[t]!;
      labels[t] = rng.next() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    }
    const w = logisticStack([x1, x2], labels, { ridge: 0, nonNegative: false });
    expect(w.intercept).toBeCloseTo(-1, 1);
    expect(w.weights[0]).toBeCloseTo(1.5, 1);
    expect(w.weights[1]).toBeCloseTo(-0.8, 1);
    const nn = logisticStack([x1, x2], labels, { ridge: 0, nonNegative: true });
    expect(nn.weights[1]).toBe(0);
    expect(nn.weights[0]).toBeGreaterThan(1);
  });
});

describe('validation slice', () => {
  it('holds out about 10 % of every user, keeps at least one rating each, and is seeded', () => {
    const split = validationSlice(train, 0.1, 42);
    expect(split.fit.size + split.validation.size).toBe(train.size);
    const all = train.userCounts();
    const fit = split.fit.userCounts();
    const val = split.validation.userCounts();
    for (let u = 0; u < all.length; u++) {
      if (all[u]! === 0) continue;
      expect(fit[u]!).toBeGreaterThanOrEqual(1);
      expect(val[u]).toBe(Math.min(all[u]! - 1, Math.round(all[u]! * 0.1)));
    }
    expect(Array.from(validationSlice(train, 0.1, 42).validation.items)).toEqual(
      Array.from(split.validation.items),
    );
    expect(Array.from(validationSlice(train, 0.1, 43).validation.items)).not.toEqual(
      Array.from(split.validation.items),
    );
  });

  it('ranking rows: the validation items as positives and unseen sampled negatives', () => {
    const split = validationSlice(train, 0.1, 42);
    const r = rankingRows(split, 3, 42);
    const fit = split.fit.csr();
    const val = split.validation.csr();
    for (let k = 0; k < r.users.length; k++) {
      const u = r.users[k]!;
      const nVal = val.indptr[u + 1]! - val.indptr[u]!;
      let pos = 0;
      for (let p = r.indptr[k]!; p < r.indptr[k + 1]!; p++) {
        const item = r.items[p]!;
        const inFit = fit.indices.subarray(fit.indptr[u]!, fit.indptr[u + 1]!).includes(item);
        const inVal = val.indices.subarray(val.indptr[u]!, val.indptr[u + 1]!).includes(item);
        expect(inFit).toBe(false);
        expect(inVal).toBe(r.labels[p] === 1);
        pos += r.labels[p]!;
      }
      expect(pos).toBe(nVal);
      expect(r.indptr[k + 1]! - r.indptr[k]!).toBe(4 * nVal);
    }
  });
});

describe('ensemble (rating mode)', () => {
  const tmp = useTempDir('reelab-ensemble-');

  it('learns the exact weights when the validation ratings are a linear blend of two members', async () => {
    // The validation slice depends only on who rated what (not on rating values), and members only see the
    // fit part, so the validation ratings can be rewritten to an exact blend of the members' predictions.
    const members = [MEMBERS[0]!, MEMBERS[1]!];
    const split = validationSlice(train, 0.1, 42);
    const preds: Float32Array[] = [];
    for (const m of members) {
      const model = createModel(m.model, m.params ?? {});
      await model.fit(split.fit);
      preds.push(model.predict(split.validation.users, split.validation.items));
    }
    const key = (u: number, i: number) => u * train.nItems + i;
    const target = new Map<number, number>();
    for (let t = 0; t < split.validation.size; t++)
      target.set(
        key(split.validation.users[t]!, split.validation.items[t]!),
        0.25 + 0.3 * preds[0]![t]! + 0.65 * preds[1]![t]!,
      );
    const ratings = Float32Array.from(
      train.ratings,
      (r, t) => target.get(key(train.users[t]!, train.items[t]!)) ?? r,
    );
    const blended = new Interactions({
      users: train.users,
      items: train.items,
      ratings,
      userIds: train.userIds,
      itemIds: train.itemIds,
    });
    const model = createModel('ensemble', {
      members,
      ridge: 0,
      nonNegative: false,
      refit: false,
    }) as EnsembleModel;
    await model.fit(blended, { threads: 2 });
    const w = model.blendWeights;
    // Targets are stored as float32, so the recovery is exact up to float32 rounding.
    expect(w.weights[0]).toBeCloseTo(0.3, 4);
    expect(w.weights[1]).toBeCloseTo(0.65, 4);
    expect(w.intercept).toBeCloseTo(0.25, 3);
    expect(model.report().blend).toBeLessThan(1e-5);
  });

  it('beats its members on held-out data, with non-negative weights and a report against each member', async () => {
    const model = createModel('ensemble', { members: MEMBERS }) as EnsembleModel;
    const epochs: number[] = [];
    await model.fit(train, { threads: 2, validation: test, onEpoch: (e) => epochs.push(e.validationRmse!) });
    const report = model.report();
    expect(report.metric).toBe('rmse');
    expect(report.members.map((m) => m.label)).toEqual(['baseline', 'svd', 'knn-item']);
    for (const m of report.members) {
      expect(m.weight).toBeGreaterThanOrEqual(0);
      expect(m.validation).toBeGreaterThan(0.5);
      expect(m.placement).toBe('worker');
      expect(m.refitSeconds).not.toBeNull();
    }
    const best = Math.min(...report.members.map((m) => m.validation));
    // On its validation slice and on the held-out test part, the blend is strictly better than every member
    // (here: test RMSE ≈ 0.817 against 0.834 / 0.836 / 0.820, validation ≈ 0.822 against 0.831 / 0.838 / 0.838).
    expect(report.blend).toBeLessThan(best);
    expect(report.gain).toBeGreaterThan(0);
    expect(report.gain).toBeCloseTo(best - report.blend, 12);
    const blendTest = evaluateRatings(model, test).rmse;
    const memberTest = model.memberModels.map((m) => evaluateRatings(m, test).rmse);
    expect(memberTest).toHaveLength(MEMBERS.length);
    for (const [j, rmse] of memberTest.entries()) {
      expect(blendTest, `blend vs ${report.members[j]!.label}`).toBeLessThan(rmse);
    }
    expect(epochs).toHaveLength(1);
    expect(epochs[0]).toBeCloseTo(blendTest, 5);
  });

  it('is deterministic for a seed, and the seed moves the validation slice', async () => {
    const fitOnce = async (seed: number) => {
      const m = createModel('ensemble', { members: MEMBERS, seed }) as EnsembleModel;
      await m.fit(train, { threads: 2 });
      return m;
    };
    const a = await fitOnce(5);
    const b = await fitOnce(5);
    const c = await fitOnce(6);
    expect(b.blendWeights).toEqual(a.blendWeights);
    expect(b.predict(test.users, test.items)).toEqual(a.predict(test.users, test.items));
    expect(c.blendWeights.weights).not.toEqual(a.blendWeights.weights);
  });

  it('fits members in worker threads and sequentially on this thread to the same numbers', async () => {
    const parallel = createModel('ensemble', { members: MEMBERS, parallel: true }) as EnsembleModel;
    const sequential = createModel('ensemble', { members: MEMBERS, parallel: false }) as EnsembleModel;
    await parallel.fit(train, { threads: 2 });
    await sequential.fit(train, { threads: 1 });
    expect(parallel.report().members.map((m) => m.placement)).toEqual(['worker', 'worker', 'worker']);
    expect(sequential.report().members.map((m) => m.placement)).toEqual(['main', 'main', 'main']);
    expect(sequential.blendWeights).toEqual(parallel.blendWeights);
    expect(sequential.report().members.map((m) => m.validation)).toEqual(
      parallel.report().members.map((m) => m.validation),
    );
    expect(sequential.predict(test.users, test.items)).toEqual(parallel.predict(test.users, test.items));
    const row = new Float32Array(train.nItems);
    const row2 = new Float32Array(train.nItems);
    parallel.scoreAll(3, row);
    sequential.scoreAll(3, row2);
    expect(row2).toEqual(row);
  });

  it('saves and loads to identical predictions, recommendations and report', async () => {
    const model = createModel('ensemble', { members: MEMBERS, refit: false }) as EnsembleModel;
    await model.fit(train, { threads: 2 });
    await saveModel(model, tmp());
    const { model: loaded } = await loadModel(tmp());
    expect(loaded.name).toBe('ensemble');
    expect(loaded.predict(test.users, test.items)).toEqual(model.predict(test.users, test.items));
    expect(loaded.recommend(4, 10)).toEqual(model.recommend(4, 10));
    expect((loaded as EnsembleModel).report()).toEqual(model.report());
    expect((loaded as EnsembleModel).blendWeights).toEqual(model.blendWeights);
  });

  it('keeps TensorFlow.js members on this thread while the others run in workers', async () => {
    expect(memberPlacement(createModel('hybrid-nn', {}))).toBe('main');
    expect(memberPlacement(createModel('svd', {}))).toBe('worker');
    const model = createModel('ensemble', {
      members: [
        MEMBERS[0],
        { model: 'hybrid-nn', params: { epochs: 2, content: false, factors: 8, hidden: '8' } },
      ],
      refit: false,
    }) as EnsembleModel;
    await model.fit(train, { threads: 2 });
    expect(model.report().members.map((m) => m.placement)).toEqual(['worker', 'main']);
    const p = model.predict(test.users, test.items);
    expect(p.every((v) => Number.isFinite(v) && v >= 0.5 && v <= 5)).toBe(true);
  });

  it('rejects bad member lists with errors naming the member', () => {
    const make = (members: unknown) => () => createModel('ensemble', { members });
    expect(make([])).toThrow(ConfigError);
    expect(make('not json')).toThrow(/not valid JSON/);
    expect(make([{ model: 'nope' }])).toThrow(/members\[0\]\.model: .*unknown model "nope"/);
    expect(make([{ model: 'baseline' }, { model: 'svd', params: { factors: -2 } }])).toThrow(
      /members\[1\] \(svd\): .*factors/,
    );
    expect(make([{ model: 'ials' }])).toThrow(/ials is a ranking model.*ensemble-ranking/);
    expect(make([{ model: 'ensemble' }])).toThrow(/cannot be a member/);
    expect(make([{ model: 'svd', extra: 1 }])).toThrow(/unknown keys extra/);
    expect(() => createModel('ensemble', { validationFraction: 0.7 })).toThrow(/validationFraction/);
  });

  it('labels repeated members apart', () => {
    const model = createModel('ensemble', {
      members: [
        { model: 'svd' },
        { model: 'svd', params: { factors: 10 } },
        { model: 'svd', label: 'small' },
      ],
    }) as EnsembleModel;
    expect(model.memberSpecs.map((s) => s.label)).toEqual(['svd', 'svd#2', 'small']);
  });
});

describe('ensemble-ranking', () => {
  it('blends per-user z-scores of ranking members with logistic weights', async () => {
    const model = createModel('ensemble-ranking', {
      members: [{ model: 'ials', params: { factors: 8, iterations: 5 } }, { model: 'popularity' }],
      negatives: 5,
    }) as EnsembleModel;
    await model.fit(train, { threads: 2 });
    const report = model.report();
    expect(report.metric).toBe('ndcg@10');
    expect(report.members.every((m) => m.weight >= 0 && m.validation > 0 && m.validation < 1)).toBe(true);
    expect(report.blend).toBeGreaterThan(0);
    expect(report.validationRows).toBeGreaterThan(0);
    // predict of pairs agrees with scoreAll (both blend z-scores over all items of the user).
    const row = new Float32Array(train.nItems);
    model.scoreAll(2, row);
    const items = Int32Array.of(0, 5, 17);
    const p = model.predict(Int32Array.of(2, 2, 2), items);
    expect(Array.from(p)).toEqual(Array.from(items, (i) => row[i]!));
    const top = model.recommend(2, 10);
    const seen = new Set(model.seenItems(2));
    expect(Array.from(top.items).some((i) => seen.has(i))).toBe(false);
  });
});

describe.runIf(HAS_ML100K)('ensemble on real ml-100k u1', () => {
  it('beats its best member on test RMSE with weights learned on its validation slice', async () => {
    const dataDir = realDataDir();
    const all = loadRatings('ml-100k', { dataDir });
    const split = makeSplit(all, 'u1', 'ml-100k', { dataDir });
    const model = createModel('ensemble', {
      members: [
        { model: 'baseline' },
        { model: 'svd', params: { factors: 50, epochs: 30, learningRate: 0.007, reg: 0.05 } },
        { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
      ],
    }) as EnsembleModel;
    await model.fit(split.train, { threads: 2 });
    const members = model.memberModels.map((m) => evaluateRatings(m, split.test).rmse);
    const blend = evaluateRatings(model, split.test).rmse;
    // Known on this split: baseline ≈ 0.960, svd ≈ 0.936, item KNN-baseline ≈ 0.936; the blend ≈ 0.92.
    expect(members).toHaveLength(3);
    expect(Math.min(...members)).toBeGreaterThan(0.92);
    for (const rmse of members) expect(blend).toBeLessThan(rmse - 0.005);
    expect(model.report().gain).toBeGreaterThan(0);
  }, 300_000);
});

describe('ensemble side information (the catalogue passed on to members)', () => {
  const catalogue = movieCatalogue(
    Array.from({ length: synthetic.titles.length }, (_, i) => ({
      movieId: data.itemIds.id(i),
      title: synthetic.titles[i]!,
      year: synthetic.years[i]!,
      genres: synthetic.genres[i]!,
    })),
    data.itemIds,
    'synthetic',
  );
  const SIDE_MEMBERS = [
    { model: 'baseline' },
    { model: 'als-genre', params: { factors: 4, epochs: 3 } },
    { model: 'gbdt', params: { rounds: 10, svdFactors: 4, svdEpochs: 3 } },
  ];

  it('hands fit(train, { catalogue }) on to members in worker threads and on this thread alike', async () => {
    const parallel = createModel('ensemble', { members: SIDE_MEMBERS, parallel: true }) as EnsembleModel;
    const sequential = createModel('ensemble', { members: SIDE_MEMBERS, parallel: false }) as EnsembleModel;
    await parallel.fit(train, { threads: 2, catalogue });
    await sequential.fit(train, { threads: 1, catalogue });
    expect(parallel.report().members.map((m) => m.placement)).toEqual(['worker', 'worker', 'worker']);
    expect(sequential.blendWeights).toEqual(parallel.blendWeights);
    expect(sequential.predict(test.users, test.items)).toEqual(parallel.predict(test.users, test.items));
  });

  it('a member that needs the catalogue fails, saying what to pass, when the ensemble got none', async () => {
    const model = createModel('ensemble', { members: SIDE_MEMBERS, parallel: false });
    await expect(model.fit(train, { threads: 1 })).rejects.toThrow(/pass fit\(train, \{ catalogue \}\)/);
    expect(() => createModel('ensemble', { members: SIDE_MEMBERS, dataset: 'ml-100k' })).toThrow(/dataset/);
  });
});
