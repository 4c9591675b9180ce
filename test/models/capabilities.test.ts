import { beforeAll, describe, expect, it } from 'vitest';
import { choleskySolveRows } from '../../lib/compute/cg';
import { gramOf } from '../../lib/compute/ials';
import { topK } from '../../lib/compute/topk';
import type { Interactions } from '../../lib/data/interactions';
import { loadDataset } from '../../lib/data/load';
import type { ItemKnnModel } from '../../lib/models/item-knn';
import type { Recommender } from '../../lib/models/recommender';
import { createModel } from '../../lib/models/registry';

/**
 * The capabilities every model offers (lib/models/base.ts): id maps and seen items, `similarItems`,
 * `itemSimilarity` / `explain` ("because you liked") and `foldIn` (a new user from their ratings), each checked
 * against a reference computed here by hand.
 */

const MODELS: Array<[string, Record<string, unknown>]> = [
  ['svd', { factors: 8, epochs: 10, seed: 1 }],
  ['ials', { factors: 8, epochs: 8, solver: 'cholesky', seed: 1 }],
  ['knn-rating-item', { k: 20 }],
  ['knn-topn-item', { k: 20 }],
  ['popularity', {}],
];

let data: Interactions;
const fitted: Record<string, Recommender> = {};

beforeAll(async () => {
  data = loadDataset('synthetic:20000', { seed: 5 }).ratings;
  for (const [name, params] of MODELS) {
    const m = createModel(name, params);
    await m.fit(data);
    fitted[name] = m;
  }
}, 120_000);

/** Items ranked by score (descending, ties to the lower index), `item` and non-finite scores left out. */
function ranked(scores: Float64Array, item: number, count: number): { items: number[]; scores: number[] } {
  const order = Array.from(scores.keys())
    .filter((i) => i !== item && Number.isFinite(scores[i]!))
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, count);
  return { items: order, scores: order.map((i) => scores[i]!) };
}

function countsPerItem(): Int32Array {
  const counts = new Int32Array(data.nItems);
  for (let r = 0; r < data.size; r++) counts[data.items[r]!]!++;
  return counts;
}

/** Cosine of item factor rows by hand; `minSupport` leaves out items with fewer training interactions. */
function factorCosineReference(model: Recommender, item: number, minSupport: number): Float64Array {
  const { factors: k, itemFactors: Y } = model.batchScorer!()!;
  const counts = countsPerItem();
  const norm = (i: number) => Math.hypot(...Y.subarray(i * k, (i + 1) * k));
  const out = new Float64Array(data.nItems).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < data.nItems; i++) {
    if (counts[i]! < minSupport) continue;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += Y[i * k + f]! * Y[item * k + f]!;
    out[i] = dot / (norm(i) * norm(item));
  }
  return out;
}

/** Damped co-rating cosine by hand: co / √(n_a n_b) · co / (co + 5) over the sets of raters. */
function coRatingReference(item: number): Float64Array {
  const raters: Array<Set<number>> = Array.from({ length: data.nItems }, () => new Set());
  for (let r = 0; r < data.size; r++) raters[data.items[r]!]!.add(data.users[r]!);
  const out = new Float64Array(data.nItems).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < data.nItems; i++) {
    let co = 0;
    for (const u of raters[i]!) if (raters[item]!.has(u)) co++;
    if (co > 0) out[i] = (co / Math.sqrt(raters[i]!.size * raters[item]!.size)) * (co / (co + 5));
  }
  return out;
}

/** The stored neighbour list of a top-N item-kNN model. */
function neighbourListReference(model: ItemKnnModel, item: number): Float64Array {
  const { indptr, indices, values } = model.similarity;
  const out = new Float64Array(data.nItems).fill(Number.NEGATIVE_INFINITY);
  for (let e = indptr[item]!; e < indptr[item + 1]!; e++) out[indices[e]!] = values[e]!;
  return out;
}

const REFERENCES: Record<
  string,
  { source: string; reference: (m: Recommender, item: number) => Float64Array }
> = {
  svd: { source: 'factors', reference: (m, item) => factorCosineReference(m, item, 5) },
  ials: { source: 'model', reference: (m, item) => factorCosineReference(m, item, 0) },
  'knn-rating-item': { source: 'co-rating', reference: (_, item) => coRatingReference(item) },
  'knn-topn-item': {
    source: 'model',
    reference: (m, item) => neighbourListReference(m as ItemKnnModel, item),
  },
  popularity: { source: 'co-rating', reference: (_, item) => coRatingReference(item) },
};

describe.each(MODELS.map(([name]) => name))('%s', (name) => {
  const probe = [0, 7, 42];

  it('id maps and seen items are those of the training data', () => {
    const m = fitted[name]!;
    expect(Array.from(m.ids.users.ids)).toEqual(Array.from(data.userIds.ids));
    expect(Array.from(m.ids.items.ids)).toEqual(Array.from(data.itemIds.ids));
    const csr = data.csr();
    for (const u of [0, 3, 100]) {
      expect(Array.from(m.seenItems(u))).toEqual(
        Array.from(csr.indices.subarray(csr.indptr[u]!, csr.indptr[u + 1]!)),
      );
    }
    expect(m.seenMatrix().indptr).toHaveLength(data.nUsers + 1);
  });

  it('similarItems: the item left out, best first, as the reference computes it', () => {
    const m = fitted[name]!;
    const { source, reference } = REFERENCES[name]!;
    expect(m.similaritySource).toBe(source);
    for (const item of probe) {
      const top = m.similarItems(item, 10);
      expect(top.items.length).toBeGreaterThan(0);
      expect(Array.from(top.items)).not.toContain(item);
      for (let r = 1; r < top.scores.length; r++)
        expect(top.scores[r]!).toBeLessThanOrEqual(top.scores[r - 1]!);
      const want = ranked(reference(m, item), item, 10);
      expect(Array.from(top.items)).toEqual(want.items);
      top.scores.forEach((s, r) => {
        expect(s).toBeCloseTo(want.scores[r]!, 5);
      });
    }
    expect(() => m.similarItems(data.nItems, 3)).toThrow(/outside/);
  });

  it("explain: only the user's rated items, most similar first", () => {
    const m = fitted[name]!;
    for (const u of [0, 3, 100]) {
      const rated = new Set(m.seenItems(u));
      const item = m.recommend(u, 1).items[0]!;
      const why = m.explain(u, item, 5);
      expect(why.items.length).toBe(Math.min(5, rated.size));
      for (const j of why.items) expect(rated.has(j)).toBe(true);
      why.items.forEach((j, r) => {
        expect(why.scores[r]).toBeCloseTo(m.itemSimilarity(item, j), 12);
        if (r > 0) expect(why.scores[r]!).toBeLessThanOrEqual(why.scores[r - 1]!);
      });
      // nothing the user rated and left out is more similar than the last one kept
      const last = why.scores[why.scores.length - 1]!;
      for (const j of rated)
        if (!why.items.includes(j)) expect(m.itemSimilarity(item, j)).toBeLessThanOrEqual(last);
      // a new user's items work the same way
      const given = Int32Array.from([...rated].slice(0, 3));
      const fromItems = m.explain(given, item, 2);
      for (const j of fromItems.items) expect(Array.from(given)).toContain(j);
    }
  });
});

/** A training user's own ratings (items and values). */
function profileOf(u: number): { items: Int32Array; ratings: Float32Array } {
  const csr = data.csr();
  return {
    items: csr.indices.slice(csr.indptr[u]!, csr.indptr[u + 1]!),
    ratings: csr.values.slice(csr.indptr[u]!, csr.indptr[u + 1]!),
  };
}

function topOf(scores: Float32Array, seen: Int32Array, k: number): number[] {
  const mark = new Int32Array(scores.length);
  for (const i of seen) mark[i] = 1;
  return Array.from(topK(scores, k, mark, 1).items);
}

describe('foldIn', () => {
  const users = [0, 3, 10, 50, 100];

  it("ials: a user's own ratings give the same top 10 as recalculating the user with the model's solver", async () => {
    const m = fitted.ials!;
    const { factors: k, itemFactors: y } = m.batchScorer!()!;
    const yty = await gramOf(y, k, m.params.reg as number, 1);
    for (const u of users) {
      const profile = profileOf(u);
      const folded = m.foldIn(profile)!;
      expect(folded.method).toBe('factors-implicit');
      const scores = new Float32Array(data.nItems);
      folded.scoreAll(scores);
      // the model's own Cholesky row solve, binary values, confidence 1 + alpha
      const x = new Float32Array(k);
      const c = 1 + (m.params.alpha as number);
      const side = {
        indptr: Int32Array.of(0, profile.items.length),
        indices: profile.items,
        values: new Float32Array(profile.items.length).fill(c),
        x,
        y,
        yty,
        k,
      };
      choleskySolveRows(side, 0, 1);
      folded.userFactors!.forEach((v, f) => {
        expect(v).toBeCloseTo(x[f]!, 4);
      });
      const again = new Float32Array(data.nItems);
      for (let i = 0; i < data.nItems; i++) {
        let s = 0;
        for (let f = 0; f < k; f++) s += x[f]! * y[i * k + f]!;
        again[i] = s;
      }
      expect(topOf(scores, profile.items, 10)).toEqual(topOf(again, profile.items, 10));
      // …and close to what the model recommends the trained user
      const trained = new Set(m.recommend(u, 10).items);
      expect(topOf(scores, profile.items, 10).filter((i) => trained.has(i)).length).toBeGreaterThanOrEqual(7);
    }
  });

  it("ials with rating values: the fold-in weighs each rated item with the model's own confidence", async () => {
    const m = createModel('ials', {
      factors: 8,
      epochs: 4,
      solver: 'cholesky',
      values: 'rating',
      alpha: 0.5,
    });
    await m.fit(data);
    const { factors: k, itemFactors: y } = m.batchScorer!()!;
    const yty = await gramOf(y, k, m.params.reg as number, 1);
    const profile = profileOf(3);
    const x = new Float32Array(k);
    const values = Float32Array.from(profile.ratings, (r) => 1 + 0.5 * r);
    choleskySolveRows(
      { indptr: Int32Array.of(0, values.length), indices: profile.items, values, x, y, yty, k },
      0,
      1,
    );
    m.foldIn(profile)!.userFactors!.forEach((v, f) => {
      expect(v).toBeCloseTo(x[f]!, 4);
    });
  });

  it("svd: a user's own ratings give recommendations close to the trained user's", () => {
    const m = fitted.svd!;
    let overlap = 0;
    for (const u of users) {
      const profile = profileOf(u);
      const folded = m.foldIn(profile)!;
      expect(folded.method).toBe('factors-explicit');
      expect(folded.userFactors).toHaveLength(8);
      const scores = new Float32Array(data.nItems);
      folded.scoreAll(scores);
      const trained = new Set(m.recommend(u, 10).items);
      overlap += topOf(scores, profile.items, 10).filter((i) => trained.has(i)).length;
    }
    expect(overlap / users.length).toBeGreaterThanOrEqual(6);
  });

  it('models without a way to fold a user in say so (null); bad profiles are refused', () => {
    expect(fitted.popularity!.foldIn(profileOf(0))).toBeNull();
    expect(fitted['knn-rating-item']!.foldIn(profileOf(0))).toBeNull();
    expect(() => fitted.ials!.foldIn({ items: Int32Array.of(0, 0), ratings: Float32Array.of(4, 5) })).toThrow(
      /rated twice/,
    );
    expect(() =>
      fitted.svd!.foldIn({ items: Int32Array.of(data.nItems), ratings: Float32Array.of(4) }),
    ).toThrow(/outside/);
  });
});
