import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SvdppState, svdppEpoch, svdppScratch, svdppVisitUser } from '../../lib/compute/sgd-svdpp';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { evaluateRatings } from '../../lib/eval/rating';
import { loadModel, saveModel } from '../../lib/models/persist';
import { SvdppModel } from '../../lib/models/svdpp';
import { Rng } from '../../lib/util/rng';
import { HAS_ML100K, realDataDir } from '../helpers/data';

const rates = {
  lrBu: 0.011,
  lrBi: 0.013,
  lrPu: 0.017,
  lrQi: 0.019,
  lrYj: 0.023,
  regBu: 0.03,
  regBi: 0.05,
  regPu: 0.07,
  regQi: 0.09,
  regYj: 0.11,
};

function stateFor(data: Interactions, k: number, seed: number): SvdppState {
  const rng = new Rng(seed);
  const f = (n: number) => {
    const a = new Float32Array(n);
    rng.fillNormal(a, 0, 0.1);
    return a;
  };
  return {
    factors: k,
    byUser: data.csr(),
    userFactors: f(data.nUsers * k),
    itemFactors: f(data.nItems * k),
    implicitFactors: f(data.nItems * k),
    userBias: new Float64Array(data.nUsers),
    itemBias: new Float64Array(data.nItems),
    mean: data.mean(),
    rates,
    shuffle: false,
    seed,
  };
}

describe('svd++ kernel', () => {
  it('equals a literal transcription of Surprise SVDpp.sgd (O(|I_u|·k) y_j updates per rating)', () => {
    const data = generateSynthetic({ ratings: 2000, seed: 5, users: 60, items: 120 }).ratings;
    const k = 5;
    const st = stateFor(data, k, 7);
    const P = Float64Array.from(st.userFactors);
    const Q = Float64Array.from(st.itemFactors);
    const Y = Float64Array.from(st.implicitFactors);
    const bu = new Float64Array(data.nUsers);
    const bi = new Float64Array(data.nItems);
    const { indptr, indices, values } = data.csr();
    const mu = st.mean;
    const z = new Float64Array(k);
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let u = 0; u < data.nUsers; u++) {
        const n = indptr[u + 1]! - indptr[u]!;
        const sq = Math.sqrt(n);
        for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
          const i = indices[p]!;
          z.fill(0);
          for (let q = indptr[u]!; q < indptr[u + 1]!; q++)
            for (let f = 0; f < k; f++) z[f]! += Y[indices[q]! * k + f]! / sq;
          let dot = 0;
          for (let f = 0; f < k; f++) dot += Q[i * k + f]! * (P[u * k + f]! + z[f]!);
          const err = values[p]! - (mu + bu[u]! + bi[i]! + dot);
          bu[u]! += rates.lrBu * (err - rates.regBu * bu[u]!);
          bi[i]! += rates.lrBi * (err - rates.regBi * bi[i]!);
          for (let f = 0; f < k; f++) {
            const puf = P[u * k + f]!;
            const qif = Q[i * k + f]!;
            P[u * k + f]! += rates.lrPu * (err * qif - rates.regPu * puf);
            Q[i * k + f]! += rates.lrQi * (err * (puf + z[f]!) - rates.regQi * qif);
            for (let q = indptr[u]!; q < indptr[u + 1]!; q++) {
              const j = indices[q]! * k + f;
              Y[j]! += rates.lrYj * ((err * qif) / sq - rates.regYj * Y[j]!);
            }
          }
        }
      }
    }
    const scratch = svdppScratch(k, st.byUser);
    for (let epoch = 0; epoch < 3; epoch++) svdppEpoch(st, epoch, scratch);
    for (let x = 0; x < Y.length; x++) expect(st.implicitFactors[x]).toBeCloseTo(Y[x]!, 5);
    for (let x = 0; x < Q.length; x++) expect(st.itemFactors[x]).toBeCloseTo(Q[x]!, 5);
    for (let x = 0; x < P.length; x++) expect(st.userFactors[x]).toBeCloseTo(P[x]!, 5);
    for (let x = 0; x < bi.length; x++) expect(st.itemBias[x]).toBeCloseTo(bi[x]!, 6);
  });

  it('one update is −lr · gradient of ½e² + ½λ‖θ‖² (finite differences, user with two items)', () => {
    // one user who rated items 0 and 1; only the first rating is visited (indptr covers both for I_u)
    const k = 2;
    const byUser = {
      indptr: Int32Array.of(0, 2),
      indices: Int32Array.of(0, 1),
      values: Float32Array.of(4, 2),
      order: null,
    };
    const st: SvdppState = {
      factors: k,
      byUser,
      userFactors: Float32Array.of(0.3, -0.2),
      itemFactors: Float32Array.of(0.5, 0.25, -0.4, 0.1),
      implicitFactors: Float32Array.of(0.2, -0.1, 0.15, 0.3),
      userBias: Float64Array.of(0.1),
      itemBias: Float64Array.of(-0.2, 0.05),
      mean: 3,
      rates,
      shuffle: false,
      seed: 1,
    };
    const theta0 = {
      bu: 0.1,
      bi: -0.2,
      p: Array.from(st.userFactors),
      q: Array.from(st.itemFactors.subarray(0, 2)),
      y: Array.from(st.implicitFactors),
    };
    type Theta = typeof theta0;
    const s = 1 / Math.sqrt(2);
    const loss = (t: Theta) => {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += t.q[f]! * (t.p[f]! + s * (t.y[f]! + t.y[k + f]!));
      const e = 4 - (3 + t.bu + t.bi + dot);
      let reg = rates.regBu * t.bu ** 2 + rates.regBi * t.bi ** 2;
      for (let f = 0; f < k; f++) reg += rates.regPu * t.p[f]! ** 2 + rates.regQi * t.q[f]! ** 2;
      for (const v of t.y) reg += rates.regYj * v * v;
      return 0.5 * e * e + 0.5 * reg;
    };
    const h = 1e-6;
    const grad = (edit: (t: Theta, d: number) => void) => {
      const plus = structuredClone(theta0);
      const minus = structuredClone(theta0);
      edit(plus, h);
      edit(minus, -h);
      return (loss(plus) - loss(minus)) / (2 * h);
    };
    // visit only the first rating; I_u is still both items
    const one = st;
    const before = structuredClone(theta0);
    svdppVisitUser(one, 0, Int32Array.of(0), 1, svdppScratch(k, byUser));
    expect(one.userBias[0]! - before.bu).toBeCloseTo(-rates.lrBu * grad((t, d) => (t.bu += d)), 6);
    expect(one.itemBias[0]! - before.bi).toBeCloseTo(-rates.lrBi * grad((t, d) => (t.bi += d)), 6);
    for (let f = 0; f < k; f++) {
      expect(one.userFactors[f]! - before.p[f]!).toBeCloseTo(-rates.lrPu * grad((t, d) => (t.p[f]! += d)), 5);
      expect(one.itemFactors[f]! - before.q[f]!).toBeCloseTo(-rates.lrQi * grad((t, d) => (t.q[f]! += d)), 5);
      for (let j = 0; j < 2; j++)
        expect(one.implicitFactors[j * k + f]! - before.y[j * k + f]!).toBeCloseTo(
          -rates.lrYj * grad((t, d) => (t.y[j * k + f]! += d)),
          5,
        );
    }
  });
});

describe('svd++ model', () => {
  const data = generateSynthetic({ ratings: 20000, seed: 11 }).ratings;

  it('validation RMSE beats the bias-only fit and training error decreases', async () => {
    const rows = Int32Array.from({ length: data.size }, (_, i) => i);
    const train = data.select(rows.filter((r) => r % 5 !== 0));
    const valid = data.select(rows.filter((r) => r % 5 === 0));
    const reports: Array<{ trainRmse?: number; validationRmse?: number }> = [];
    const m = new SvdppModel({ factors: 8, epochs: 8 });
    await m.fit(train, { validation: valid, onEpoch: (e) => reports.push(e) });
    for (let t = 1; t < reports.length; t++)
      expect(reports[t]!.trainRmse!).toBeLessThan(reports[t - 1]!.trainRmse!);
    expect(reports.at(-1)!.validationRmse).toBeCloseTo(evaluateRatings(m, valid).rmse, 6);
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new SvdppModel({ factors: 6, epochs: 2 });
    await m.fit(data);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-svdpp-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const users = Int32Array.from({ length: 300 }, (_, i) => i % data.nUsers);
    const items = Int32Array.from({ length: 300 }, (_, i) => (i * 13) % data.nItems);
    expect(Array.from(model.predict(users, items))).toEqual(Array.from(m.predict(users, items)));
    expect((model as SvdppModel).implicit.implicitFactors).toEqual(m.implicit.implicitFactors);
  });

  it('unknown users/items get μ + known biases', async () => {
    const d = new Interactions({
      users: Int32Array.of(0, 0, 1),
      items: Int32Array.of(0, 1, 1),
      ratings: Float32Array.of(5, 3, 4),
      userIds: IdMap.fromSorted(Int32Array.of(1, 2, 3)),
      itemIds: IdMap.fromSorted(Int32Array.of(1, 2, 3)),
    });
    const m = new SvdppModel({ factors: 2, epochs: 3 });
    await m.fit(d);
    const { mean, userBias, itemBias } = m.parameters;
    const p = m.predict(Int32Array.of(2, 0), Int32Array.of(1, 2));
    expect(p[0]).toBeCloseTo(mean + itemBias[1]!, 5);
    expect(p[1]).toBeCloseTo(mean + userBias[0]!, 5);
  });

  it.runIf(HAS_ML100K)('scores like Surprise SVD++ on ml-100k u1 (Surprise: 0.933)', async () => {
    const dataDir = realDataDir();
    const split = makeSplit(loadRatings('ml-100k', { dataDir }), 'u1', 'ml-100k', { dataDir });
    const m = new SvdppModel();
    await m.fit(split.train);
    const { rmse } = evaluateRatings(m, split.test);
    expect(rmse).toBeGreaterThan(0.926);
    expect(rmse).toBeLessThan(0.94);
  });
});
