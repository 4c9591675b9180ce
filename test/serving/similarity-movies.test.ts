import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { createModel } from '../../lib/models/registry';
import { itemCounts, modelView } from '../../lib/serving/model-view';
import { MovieTable, normalise } from '../../lib/serving/movies';
import { CoRatingSimilarity, FactorSimilarity, itemSimilarity } from '../../lib/serving/similarity';
import { ConfigError } from '../../lib/util/errors';

/** 4 users × 4 items: item 0 rated by users 0,1,2; item 1 by 0,1; item 2 by 2,3; item 3 by 3. */
function data(): Interactions {
  return new Interactions({
    users: Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]),
    items: Int32Array.from([0, 1, 0, 1, 0, 2, 2, 3]),
    ratings: Float32Array.from([5, 4, 3, 4, 2, 5, 4, 1]),
    userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3, 4])),
    itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
  });
}

describe('item similarity', () => {
  it('co-rating cosine, damped: co/√(n_a n_b) · co/(co + shrink)', async () => {
    const model = createModel('popularity');
    await model.fit(data());
    const sim = new CoRatingSimilarity(modelView(model), 1);
    // items 0 and 1 share users 0 and 1: 2/√(3·2) · 2/3
    expect(sim.pair(0, 1)).toBeCloseTo((2 / Math.sqrt(6)) * (2 / 3), 6);
    // items 0 and 2 share user 2: 1/√(3·2) · 1/2
    expect(sim.pair(0, 2)).toBeCloseTo((1 / Math.sqrt(6)) * 0.5, 6);
    expect(sim.pair(0, 3)).toBe(0);
    const top = sim.similar(0, 3);
    expect(Array.from(top.items)).toEqual([1, 2]);
    expect(top.scores[0]).toBeCloseTo(sim.pair(0, 1), 6);
    expect(() => sim.similar(9, 3)).toThrow(ConfigError);
    expect(() => sim.similar(0, 0)).toThrow(ConfigError);
  });

  it('factor cosine with a minimum support', () => {
    // 4 items × 2 factors; item 3 is closest to item 0 but has support 1 < 2.
    const factors = Float32Array.from([1, 0, 1, 1, 0, 1, 2, 0.1]);
    const sim = new FactorSimilarity(factors, 2, Int32Array.from([5, 5, 5, 1]), 2);
    expect(sim.pair(0, 1)).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(sim.pair(0, 2)).toBeCloseTo(0, 6);
    expect(Array.from(sim.similar(0, 3).items)).toEqual([1, 2]);
  });

  it("uses a model's own similarItems, else its factors, else co-ratings", async () => {
    const d = data();
    const pop = createModel('popularity');
    await pop.fit(d);
    expect(itemSimilarity(pop, modelView(pop)).source).toBe('co-rating');
    const svd = createModel('svd', { factors: 2, epochs: 2 });
    await svd.fit(d);
    expect(itemSimilarity(svd, modelView(svd)).source).toBe('factors');
    const ials = createModel('ials', { factors: 2, iterations: 2 });
    await ials.fit(d);
    expect(itemSimilarity(ials, modelView(ials)).source).toBe('model');
  });

  it('model view: ids and seen items from the saved state; counts per item', async () => {
    const model = createModel('popularity');
    await model.fit(data());
    const view = modelView(model);
    expect(Array.from(view.users.ids)).toEqual([1, 2, 3, 4]);
    expect(Array.from(view.items.ids)).toEqual([10, 20, 30, 40]);
    expect(Array.from(itemCounts(view))).toEqual([3, 2, 2, 1]);
  });
});

describe('movie table', () => {
  const movies = [
    { movieId: 10, title: 'Matrix, The (1999)', genres: ['Action', 'Sci-Fi'], year: 1999 },
    { movieId: 20, title: 'Matrix Reloaded, The (2003)', genres: ['Action'], year: 2003 },
    {
      movieId: 30,
      title: 'Amélie (Fabuleux destin d’Amélie Poulain, Le) (2001)',
      genres: ['Comedy'],
      year: 2001,
    },
    { movieId: 40, title: 'Animatrix, The (2003)', genres: ['(no genres listed)'], year: 2003 },
    { movieId: 50, title: 'not rated', genres: [], year: null },
  ];
  const items = IdMap.fromSorted(Int32Array.from([10, 20, 30, 40]));
  const table = MovieTable.fromMovies('hand', movies, items, Int32Array.from([5, 9, 3, 1]));

  it('keeps only the model items, in item order', () => {
    expect(Array.from(table.movieIds)).toEqual([10, 20, 30, 40]);
    expect(table.info(3)).toEqual({ movieId: 40, title: 'Animatrix, The (2003)', genres: [], year: 2003 });
  });

  it('searches word prefixes, ignoring case and accents; whole words and short titles first', () => {
    // Both titles hold the word "matrix"; the shorter title wins although the other is more popular.
    expect(table.search('matrix', 10)).toEqual([0, 1]);
    expect(table.search('the matrix', 10)).toEqual([0, 1]);
    expect(table.search('AMELIE', 10)).toEqual([2]);
    // prefixes only: "matr rel" matches the sequel alone; "mat" is no whole word → the shorter title first
    expect(table.search('matr rel', 10)).toEqual([1]);
    expect(table.search('mat', 10)).toEqual([0, 1]);
    // "the": Matrix and Animatrix tie on words → popularity (5 vs 1) decides; the longer sequel comes last
    expect(table.search('the', 10)).toEqual([0, 3, 1]);
    expect(table.search('zzz', 10)).toEqual([]);
    expect(() => table.search('  ,, ', 10)).toThrow(ConfigError);
    expect(normalise('Amélie, Le!')).toBe('amelie le');
  });

  it('rejects a rated movie missing from the catalogue', () => {
    expect(() => MovieTable.fromMovies('hand', movies.slice(1), items, new Int32Array(4))).toThrow(
      /movie 10 is rated but not in the catalogue/,
    );
  });
});
