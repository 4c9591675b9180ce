import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../lib/data/load';
import { createModel } from '../../lib/models/registry';
import {
  explainRecommendation,
  type Factors,
  fitFactorModel,
  itemEmbeddingMap,
  modelFactors,
  mostRatedItems,
  movieSimilarityHeatmap,
  recommendMovies,
  similarMovies,
  userEmbeddingMap,
} from '../../lib/viz/embeddings';
import { tinyDataset } from './fixture';

/** Items of the tiny dataset (movies 1–4) at (1,0), (1,1), (0,1), (−1,0); users anywhere. */
const factors: Factors = {
  k: 2,
  items: Float32Array.from([1, 0, 1, 1, 0, 1, -1, 0]),
  users: Float32Array.from([1, 0, 0, 1, 1, 1]),
};

describe('neighbours and explanations from factors', () => {
  it('nearest movies by cosine, optionally among movies with enough ratings', () => {
    const { ratings, movies } = tinyDataset();
    const near = similarMovies(factors, ratings, movies, 1, { count: 3 });
    expect(near.map((r) => r.movieId)).toEqual([2, 3, 4]);
    expect(near[0]!.similarity).toBeCloseTo(Math.SQRT1_2, 6);
    expect(near[2]!.similarity).toBeCloseTo(-1, 6);
    expect(near[0]).toMatchObject({ rank: 1, title: 'Beta (1995)', genres: 'Comedy', ratings: 1 });
    // counts: movie 1: 3, 2: 1, 3: 2, 4: 1 → only movie 3 has ≥ 2 ratings besides movie 1 itself
    expect(similarMovies(factors, ratings, movies, 1, { minRatings: 2 }).map((r) => r.movieId)).toEqual([3]);
    expect(() => similarMovies(factors, ratings, movies, 5)).toThrow(/movie 5 has no ratings/);
  });

  it("why: the user's rated movies closest to the recommended one, with their ratings", () => {
    const { ratings, movies } = tinyDataset();
    const why = explainRecommendation(factors, ratings, movies, 10, 4, 3);
    expect(why.title).toBe('Delta');
    expect(why.because.map((r) => [r.movieId, r.rating])).toEqual([
      [3, 5],
      [2, 3.5],
      [1, 4],
    ]);
    const sims = why.because.map((r) => r.similarity);
    expect(sims[0]).toBeCloseTo(0, 6);
    expect(sims[1]).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(sims[2]).toBeCloseTo(-1, 6);
    expect(() => explainRecommendation(factors, ratings, movies, 99, 4)).toThrow(/user 99/);
  });

  it('similarity heatmap of chosen movies', () => {
    const { ratings, movies } = tinyDataset();
    const fig = movieSimilarityHeatmap(factors, ratings, movies, [1, 3]);
    expect(fig.data[0]!.y).toEqual(['Alpha (1995)', 'Gamma (2001)']);
    expect(fig.data[0]!.z).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('the most-rated rule: counts descending, ties to the lower index', () => {
    const r = mostRatedItems(Int32Array.from([3, 1, 2, 1, 3]), 3);
    expect(Array.from(r.items)).toEqual([0, 4, 2]);
    expect(r.minCount).toBe(2);
  });

  it('models without factors are refused by name', () => {
    expect(() => modelFactors(createModel('popularity'))).toThrow(/popularity has no latent factors/);
  });
});

describe('a fitted factor model on synthetic data', () => {
  it('fits, recommends unseen movies, and maps the most-rated items with the rule stated', async () => {
    const data = loadDataset('synthetic:20000', { seed: 5 });
    const fitted = await fitFactorModel(data.ratings, {
      model: 'ials',
      params: { factors: 8, iterations: 3, seed: 1 },
      progress: 'none',
      tracking: null,
    });
    expect(fitted.run).toBeNull();
    expect(fitted.factors.k).toBe(8);
    expect(fitted.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);

    const userId = data.ratings.userIds.id(0);
    const recs = recommendMovies(fitted.model, data.ratings, data.movies, userId, 5);
    expect(recs).toHaveLength(5);
    const seen = new Set(Array.from(fitted.model.recommend(0, 5).items));
    expect(recs.map((r) => data.ratings.itemIds.index(r.movieId)).every((i) => seen.has(i))).toBe(true);
    const rated = new Set<number>();
    const csr = data.ratings.csr();
    for (let p = csr.indptr[0]!; p < csr.indptr[1]!; p++) rated.add(data.ratings.itemIds.id(csr.indices[p]!));
    expect(recs.some((r) => rated.has(r.movieId))).toBe(false);

    const map = await itemEmbeddingMap(fitted.factors, data.ratings, data.movies, {
      maxItems: 120,
      umap: { nEpochs: 40, progress: 'none' },
    });
    const counts = data.ratings.itemCounts();
    expect(map.items).toHaveLength(120);
    expect(counts[map.items[0]!]).toBe(Math.max(...counts));
    expect(map.rule).toBe(
      `the 120 most-rated of ${data.ratings.nItems} movies (≥ ${counts[map.items[119]!]} ratings each)`,
    );
    const drawn = map.figure.data.reduce((s, t) => s + (t.x as number[]).length, 0);
    expect(drawn).toBe(120);
    expect(map.figure.layout?.title?.text).toContain(map.rule);
    expect(map.mapAgreement.k).toBe(10);
    expect(map.mapAgreement.randomRate).toBeGreaterThan(0);

    const users = await userEmbeddingMap(fitted.factors, data.ratings, data.movies, {
      maxUsers: 50,
      umap: { nEpochs: 30, progress: 'none' },
    });
    expect(users.users).toHaveLength(50);
    expect(users.figure.data.reduce((s, t) => s + (t.x as number[]).length, 0)).toBe(50);
  }, 60_000);
});
