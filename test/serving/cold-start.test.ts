import { describe, expect, it } from 'vitest';
import { topK } from '../../lib/compute/topk';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { BaselineModel } from '../../lib/models/baseline';
import type { FactorScorer, Recommender } from '../../lib/models/recommender';
import { createModel } from '../../lib/models/registry';
import {
  canFoldIn,
  foldInExplicit,
  foldInImplicit,
  foldInUser,
  type ScoresForUser,
} from '../../lib/serving/cold-start';
import { ConfigError } from '../../lib/util/errors';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';

function tiny(): Interactions {
  return new Interactions({
    users: Int32Array.from([0, 0, 1, 1, 1]),
    items: Int32Array.from([0, 1, 0, 1, 2]),
    ratings: Float32Array.from([5, 3, 4, 2, 1]),
    userIds: IdMap.fromSorted(Int32Array.from([10, 20])),
    itemIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
  });
}

function scores(s: ScoresForUser, n: number): number[] {
  const out = new Float32Array(n);
  s.scoreAll(out);
  return Array.from(out);
}

describe('cold start: hand-computed fold-ins', () => {
  it('baseline: the user-bias step of its ALS reproduces a trained user from their own ratings', async () => {
    const m = new BaselineModel({ method: 'als', epochs: 4, regUser: 2, regItem: 1 });
    await m.fit(tiny());
    const folded = foldInUser(m, Int32Array.from([0, 1, 2]), Float32Array.from([4, 2, 1]))!;
    expect(folded.method).toBe('baseline');
    const trained = new Float32Array(3);
    m.scoreAll(1, trained);
    scores(folded, 3).forEach((v, i) => {
      expect(v).toBeCloseTo(trained[i]!, 5);
    });
    // b_u = Σ(r − μ − b_i) / (regUser + n) for a new profile
    const { mean, item } = m.biases;
    const bu = (5 - mean - item[2]!) / (2 + 1);
    const single = scores(foldInUser(m, Int32Array.of(2), Float32Array.of(5))!, 3);
    single.forEach((v, i) => {
      expect(v).toBeCloseTo(mean + bu + item[i]!, 5);
    });
  });

  it('explicit factors: ridge solve of [x, b] against fixed item factors (2×2 by hand)', () => {
    const scorer: FactorScorer = {
      kind: 'factors',
      factors: 1,
      userFactors: Float32Array.of(0),
      itemFactors: Float32Array.from([1, 2, -1]),
      userBias: Float32Array.of(0),
      itemBias: Float32Array.from([0.5, 0, -0.5]),
      globalBias: 3,
    };
    // targets 4.5−3−0.5 = 1 and 5−3−0 = 2; A = [[1+4+1, 1+2], [3, 2+2]] = [[6,3],[3,4]], rhs = [5, 3]
    // → x = 11/15, b = 3/15
    const s = foldInExplicit(scorer, Int32Array.from([0, 1]), Float32Array.from([4.5, 5]), {
      reg: 1,
      regBias: 2,
    });
    const x = 11 / 15;
    const b = 0.2;
    expect(scores(s, 3)).toEqual(
      [3 + b + 0.5 + x, 3 + b + 2 * x, 3 + b - 0.5 - x].map((v) => expect.closeTo(v, 5)),
    );
  });

  it('implicit factors: Hu et al. objective over all items (1-d by hand)', () => {
    const scorer: FactorScorer = {
      kind: 'factors',
      factors: 1,
      userFactors: Float32Array.of(0),
      itemFactors: Float32Array.from([1, 2, -1]),
    };
    // (YᵀY + α y₁² + λ) x = (1 + α) y₁ → (6 + 2·4 + 0.5) x = 3·2
    const s = foldInImplicit(scorer, Int32Array.of(1), { reg: 0.5, alpha: 2 });
    const x = 6 / 14.5;
    expect(scores(s, 3)).toEqual([x, 2 * x, -x].map((v) => expect.closeTo(v, 6)));
  });

  it("prefers the model's own foldInUser when it has one", async () => {
    class OwnFoldIn extends BaselineModel {
      foldInUser(items: Int32Array): ScoresForUser {
        return { method: 'model', scoreAll: (out) => out.fill(items.length) };
      }
    }
    const m = new OwnFoldIn();
    await m.fit(tiny());
    expect(canFoldIn(m)).toBe(true);
    const s = foldInUser(m, Int32Array.of(0, 2), Float32Array.of(3, 4))!;
    expect(s.method).toBe('model');
    expect(scores(s, 3)).toEqual([2, 2, 2]);
  });

  it('returns null for models with neither a fold-in nor a factor form', async () => {
    const m = createModel('popularity');
    await m.fit(tiny());
    expect(foldInUser(m, Int32Array.of(0), Float32Array.of(4))).toBeNull();
  });

  it('rejects bad profiles with a ConfigError', async () => {
    const m = new BaselineModel();
    await m.fit(tiny());
    const bad: Array<[Int32Array, Float32Array, RegExp]> = [
      [Int32Array.of(0, 1), Float32Array.of(4), /2 items but 1 ratings/],
      [new Int32Array(0), new Float32Array(0), /at least one rating/],
      [Int32Array.of(0, 0), Float32Array.of(4, 5), /rated twice/],
      [Int32Array.of(0), Float32Array.of(Number.NaN), /rating 1 is NaN/],
      [Int32Array.of(7), Float32Array.of(4), /outside 0\.\.2/],
    ];
    for (const [items, ratings, message] of bad) {
      expect(() => foldInUser(m, items, ratings)).toThrow(ConfigError);
      expect(() => foldInUser(m, items, ratings)).toThrow(message);
    }
  });
});

function correlation(a: Float32Array, b: Float32Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Folds each listed training user back in from all their training ratings; compares with the trained scores. */
function refold(model: Recommender, data: Interactions, users: number[]): { corr: number; overlap: number } {
  const csr = data.csr();
  let corr = 0;
  let overlap = 0;
  for (const u of users) {
    const items = csr.indices.slice(csr.indptr[u]!, csr.indptr[u + 1]!);
    const ratings = csr.values.slice(csr.indptr[u]!, csr.indptr[u + 1]!);
    const folded = new Float32Array(data.nItems);
    foldInUser(model, items, ratings)!.scoreAll(folded);
    const trained = new Float32Array(data.nItems);
    model.scoreAll(u, trained);
    corr += correlation(folded, trained);
    const mark = new Int32Array(data.nItems);
    for (const i of items) mark[i] = 1;
    const want = new Set(topK(trained, 10, mark, 1).items);
    overlap += Array.from(topK(folded, 10, mark, 1).items).filter((i) => want.has(i)).length;
  }
  return { corr: corr / users.length, overlap: overlap / users.length };
}

describe.runIf(HAS_ML_LATEST_SMALL)('cold start on ml-latest-small', () => {
  const users = [0, 5, 10, 50, 100, 200, 300, 400, 500, 600];

  it('iALS: folding a training user back in reproduces their trained scores', async () => {
    const data = loadRatings('ml-latest-small', { dataDir: realDataDir() });
    const model = createModel('ials', { solver: 'cholesky', factors: 32, iterations: 10, seed: 1 });
    await model.fit(data);
    const { corr, overlap } = refold(model, data, users);
    expect(corr).toBeGreaterThan(0.999);
    expect(overlap).toBeGreaterThanOrEqual(9);
  });

  it('SVD: explicit fold-in tracks the trained user and predicts held-out users better than the mean', async () => {
    const all = loadRatings('ml-latest-small', { dataDir: realDataDir() });
    const model = createModel('svd', { seed: 1 });
    await model.fit(all);
    expect(refold(model, all, users).corr).toBeGreaterThan(0.9);

    // Users 0..39 held out entirely: fit on the rest, fold each in from 10 ratings, predict their other ratings.
    const heldOut = (u: number) => u < 40;
    const mask = new Uint8Array(all.size);
    for (let r = 0; r < all.size; r++) mask[r] = heldOut(all.users[r]!) ? 0 : 1;
    const train = all.filter(mask);
    const svd = createModel('svd', { seed: 1 });
    await svd.fit(train);
    const mean = train.mean();
    const csr = all.csr();
    let seFold = 0;
    let seMean = 0;
    let n = 0;
    const out = new Float32Array(all.nItems);
    for (let u = 0; u < 40; u++) {
      const start = csr.indptr[u]!;
      const end = csr.indptr[u + 1]!;
      if (end - start < 20) continue;
      foldInUser(svd, csr.indices.slice(start, start + 10), csr.values.slice(start, start + 10))!.scoreAll(
        out,
      );
      for (let p = start + 10; p < end; p++) {
        const pred = Math.min(5, Math.max(0.5, out[csr.indices[p]!]!));
        seFold += (pred - csr.values[p]!) ** 2;
        seMean += (mean - csr.values[p]!) ** 2;
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(Math.sqrt(seFold / n)).toBeLessThan(Math.sqrt(seMean / n) - 0.05);
  });
});
