import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MovieCatalogue, movieCatalogue } from '../../lib/data/catalogue';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadCatalogue, loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { AlsGenreModel, genreIncidence } from '../../lib/models/als-genre';
import { loadModel, saveModel } from '../../lib/models/persist';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { evaluate } from '../../lib/workflows/evaluate';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

function synthetic(ratings: number, seed: number): { data: Interactions; catalogue: MovieCatalogue } {
  const s = generateSynthetic({ ratings, seed });
  const movies = s.titles.map((title, i) => ({
    movieId: s.ratings.itemIds.id(i),
    title,
    year: null,
    genres: s.genres[i]!,
  }));
  return { data: s.ratings, catalogue: movieCatalogue(movies, s.ratings.itemIds, 'synthetic') };
}

/** Central finite difference of the objective along one coordinate of a parameter array. */
function partial(m: AlsGenreModel, data: Interactions, arr: Float32Array | Float64Array, at: number): number {
  const h = 1e-3;
  const v = arr[at]!;
  arr[at] = v + h;
  m.refreshEffective();
  const up = m.objective(data);
  arr[at] = v - h;
  m.refreshEffective();
  const down = m.objective(data);
  arr[at] = v;
  m.refreshEffective();
  return (up - down) / (2 * h);
}

describe('als-genre', () => {
  const { data, catalogue } = synthetic(12000, 3);

  it('builds the item × genre incidence from the catalogue, aligned with the item ids', () => {
    const movies = [
      { movieId: 30, title: 'c', year: null, genres: ['Drama', 'Comedy'] },
      { movieId: 99, title: 'unrated', year: null, genres: ['Horror'] },
      { movieId: 10, title: 'a', year: null, genres: ['Comedy'] },
    ];
    const catalogue = movieCatalogue(movies, null, 'movies');
    // Genres numbered by first appearance over the rated movies in movieId order; 20 is not in the catalogue.
    const g = genreIncidence(catalogue, IdMap.fromSorted(Int32Array.of(10, 20, 30)));
    expect(g.names).toEqual(['Comedy', 'Drama']);
    expect(Array.from(g.indptr)).toEqual([0, 1, 1, 3]);
    expect(Array.from(g.genres)).toEqual([0, 0, 1]);
  });

  it('the objective never increases, epoch after epoch (exact alternating solves)', async () => {
    const losses: number[] = [];
    const m = new AlsGenreModel({ factors: 6, epochs: 8, reg: 0.05 });
    await m.fit(data, { catalogue, onEpoch: (e) => losses.push(e.loss!) });
    expect(losses).toHaveLength(8);
    for (let t = 1; t < losses.length; t++)
      expect(losses[t]!).toBeLessThanOrEqual(losses[t - 1]! * (1 + 1e-9));
    expect(losses[7]!).toBeLessThan(losses[0]! * 0.95);
  });

  it('after the genre solve, the objective is stationary in every genre bias and factor', async () => {
    const m = new AlsGenreModel({ factors: 3, epochs: 2, regGenre: 2 });
    await m.fit(data, { catalogue });
    m.solveGenres(data);
    const { genreBias, genreFactors } = m.parameters;
    const scale = Math.abs(m.objective(data));
    for (let g = 0; g < genreBias.length; g += 3) {
      expect(Math.abs(partial(m, data, genreBias, g))).toBeLessThan(1e-6 * scale);
    }
    for (let t = 0; t < genreFactors.length; t += 5) {
      expect(Math.abs(partial(m, data, genreFactors, t))).toBeLessThan(2e-5 * scale);
    }
  });

  it('the last (item) solve leaves the objective stationary in item parameters; switches pin genres to 0', async () => {
    const m = new AlsGenreModel({ factors: 3, epochs: 2, genreBias: false });
    await m.fit(data, { catalogue });
    const { itemBias, itemFactors, genreBias, genreFactors } = m.parameters;
    expect(Array.from(genreBias).every((v) => v === 0)).toBe(true);
    expect(genreFactors.some((v) => v !== 0)).toBe(true);
    const scale = Math.abs(m.objective(data));
    for (let i = 0; i < 40; i += 7)
      expect(Math.abs(partial(m, data, itemBias, i))).toBeLessThan(1e-6 * scale);
    for (let t = 0; t < 120; t += 11)
      expect(Math.abs(partial(m, data, itemFactors, t))).toBeLessThan(2e-5 * scale);
  });

  it('scores an unrated item from its genres (cold start) and clips', async () => {
    // item 2 has no ratings but shares genre 0 with item 0, which is loved
    const rng = new Rng(1);
    const users: number[] = [];
    const items: number[] = [];
    const ratings: number[] = [];
    for (let u = 0; u < 30; u++) {
      users.push(u, u);
      items.push(0, 1);
      ratings.push(5 - rng.int(2) * 0.5, 1 + rng.int(2) * 0.5);
    }
    const d = new Interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      ratings: Float32Array.from(ratings),
      userIds: IdMap.fromSorted(Int32Array.from({ length: 30 }, (_, i) => i + 1)),
      itemIds: IdMap.fromSorted(Int32Array.of(1, 2, 3, 4)),
    });
    const g = movieCatalogue(
      [1, 2, 3, 4].map((movieId, i) => ({
        movieId,
        title: `m${movieId}`,
        year: null,
        genres: [i % 2 === 0 ? 'Good' : 'Bad'],
      })),
      d.itemIds,
      'movies',
    );
    const m = new AlsGenreModel({ factors: 2, epochs: 10, regGenre: 0.1 });
    await m.fit(d, { catalogue: g });
    const p = m.predict(Int32Array.of(0, 0), Int32Array.of(2, 3));
    expect(p[0]!).toBeGreaterThan(4);
    expect(p[1]!).toBeLessThan(2);
    expect(p[0]!).toBeLessThanOrEqual(5);
  });

  it('refuses to fit without the catalogue (saying what to pass), or with the catalogue of other movies', async () => {
    await expect(new AlsGenreModel().fit(data)).rejects.toBeInstanceOf(ConfigError);
    await expect(new AlsGenreModel().fit(data)).rejects.toThrow(/pass fit\(train, \{ catalogue \}\)/);
    const wrong = movieCatalogue(
      [{ movieId: 1_000_000, title: 'x', year: null, genres: ['x'] }],
      null,
      'movies',
    );
    await expect(new AlsGenreModel().fit(data, { catalogue: wrong })).rejects.toThrow(/has none of the/);
  });

  it('save/load round-trips bit-identically (genres travel with the model)', async () => {
    const m = new AlsGenreModel({ factors: 4, epochs: 2 });
    await m.fit(data, { catalogue });
    const dir = mkdtempSync(join(tmpdir(), 'reelab-alsg-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const u = Int32Array.from({ length: 300 }, (_, t) => t % data.nUsers);
    const i = Int32Array.from({ length: 300 }, (_, t) => (t * 7) % data.nItems);
    expect(Array.from(model.predict(u, i))).toEqual(Array.from(m.predict(u, i)));
    expect(model.batchScorer?.()?.itemBias).toEqual(m.batchScorer().itemBias);
  });

  it.runIf(HAS_ML100K)(
    'beats SVD on ml-100k u1 through the evaluate workflow (genres passed along)',
    async () => {
      const r = await evaluate({
        dataset: 'ml-100k',
        split: 'u1',
        model: 'als-genre',
        dataDir: realDataDir(),
      });
      expect(r.metrics.rmse).toBeLessThan(0.945);
      expect(r.epochs).toHaveLength(15);
    },
  );

  it.runIf(HAS_ML_LATEST_SMALL)(
    'learning curves on ml-latest-small: train RMSE falls, validation settles',
    async () => {
      const dataDir = realDataDir();
      const all = loadRatings('ml-latest-small', { dataDir });
      const split = makeSplit(all, 'random:0.2', 'ml-latest-small', { seed: 42, dataDir });
      const m = new AlsGenreModel();
      const catalogue = loadCatalogue('ml-latest-small', all.itemIds, { dataDir });
      const curve: Array<{ trainRmse?: number; validationRmse?: number }> = [];
      await m.fit(split.train, { catalogue, validation: split.test, onEpoch: (e) => curve.push(e) });
      for (let t = 1; t < curve.length; t++)
        expect(curve[t]!.trainRmse!).toBeLessThan(curve[t - 1]!.trainRmse!);
      const best = Math.min(...curve.map((c) => c.validationRmse!));
      expect(best).toBeLessThan(0.89);
      expect(curve.at(-1)!.validationRmse!).toBeLessThan(best + 0.01);
      expect(curve[0]!.validationRmse!).toBeGreaterThan(best);
    },
  );
});
