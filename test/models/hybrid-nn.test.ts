import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTensorFlow } from '../../lib/compute/tensor';
import { type MovieCatalogue, movieCatalogue } from '../../lib/data/catalogue';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadCatalogue, loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { evaluateRatings } from '../../lib/eval/rating';
import { BaselineModel } from '../../lib/models/baseline';
import { HybridNnModel } from '../../lib/models/hybrid-nn';
import { NeumfModel } from '../../lib/models/neumf';
import { buildContentFeatures, textTokens } from '../../lib/models/nn/content';
import { TfNetwork } from '../../lib/models/nn/tf-network';
import { scorePairs } from '../../lib/models/nn/trainer';
import { loadModel, saveModel } from '../../lib/models/persist';
import type { EpochReport } from '../../lib/models/recommender';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { HAS_ML100K, realDataDir } from '../helpers/data';

const REQUIRE_NATIVE = process.env.REELAB_TF_REQUIRE_NATIVE === '1';
const GENRES = ['Action', 'Comedy', 'Drama'];

/**
 * 30 users × 40 movies. A user likes one genre (rating 5) and dislikes the others (rating 1–2); each user rated
 * 15 movies, so the rest must be predicted from genre content and collaborative structure. Movie 39 is unrated.
 */
function tinyProblem(): { data: Interactions; movies: MovieCatalogue } {
  const rng = new Rng(3);
  const nU = 30;
  const nI = 40;
  const list = Array.from({ length: nI }, (_, i) => ({
    movieId: i + 1,
    title: `${['Blast', 'Laugh', 'Tears'][i % 3]} Story ${i} (${1980 + (i % 20)})`,
    year: 1980 + (i % 20),
    genres: [GENRES[i % 3]!],
  }));
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < nU; u++) {
    const liked = u % 3;
    const perm = rng.permutation(nI - 1);
    for (let k = 0; k < 15; k++) {
      const i = perm[k]!;
      users.push(u);
      items.push(i);
      ratings.push(i % 3 === liked ? 5 : 1 + rng.int(2));
    }
  }
  const data = new Interactions({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(ratings),
    userIds: IdMap.fromSorted(Int32Array.from({ length: nU }, (_, u) => u + 1)),
    itemIds: IdMap.fromSorted(Int32Array.from({ length: nI }, (_, i) => i + 1)),
  });
  return { data, movies: movieCatalogue(list, data.itemIds, 'tiny movies') };
}

/** A catalogue of movies nobody rated (new movies to score), in the shape `movieCatalogue` builds. */
function newMovies(list: Array<{ movieId: number; title: string; year: number; genres: string[] }>) {
  return movieCatalogue(list, null, 'new movies');
}

const small = {
  epochs: 25,
  batchSize: 32,
  learningRate: 0.01,
  holdout: 0,
  dropout: 0,
  seed: 5,
  hidden: '16,8',
  factors: 8,
  contentDims: 8,
  textDims: 16,
};

describe('content features', () => {
  it('tokenises titles without the year, with bigrams, and tags with a # prefix', () => {
    expect(textTokens('Toy Story (1995)')).toEqual(['toy', 'story', 'toy story']);
    expect(textTokens('Heat (1995)', ['Al Pacino'])).toEqual(['heat', '#al', '#pacino', '#al pacino']);
  });

  it('builds genre multi-hot, L2-normalised text and standardised numeric columns', () => {
    const { data, movies } = tinyProblem();
    const f = buildContentFeatures(movies, data.itemIds, data.itemCounts(), {
      genres: true,
      textDims: 16,
      tags: true,
      numeric: true,
    });
    expect(f.dims).toBe(3 + 16 + 3);
    expect(f.names.slice(0, 3)).toEqual(['genre:Action', 'genre:Comedy', 'genre:Drama']);
    const row = (i: number) => f.matrix.subarray(i * f.dims, (i + 1) * f.dims);
    expect(Array.from(row(4).subarray(0, 3))).toEqual([0, 1, 0]);
    let norm = 0;
    for (const v of row(4).subarray(3, 19)) norm += v * v;
    expect(norm).toBeCloseTo(1, 5);
    // Year column: mean 0 over the catalogue.
    let yearSum = 0;
    for (let i = 0; i < 40; i++) yearSum += row(i)[19]!;
    expect(yearSum / 40).toBeCloseTo(0, 5);
  });

  it('uses the catalogue tags in the text features, when asked to', () => {
    const { data, movies } = tinyProblem();
    const tagged = movieCatalogue(
      Array.from({ length: 40 }, (_, i) => ({
        movieId: movies.movieIds[i]!,
        title: movies.titles[i]!,
        year: movies.years[i]!,
        genres: [],
      })),
      data.itemIds,
      'tiny movies',
      [],
      {
        tags: {
          size: 2,
          movieIds: Int32Array.of(3, 3),
          tagIds: Int32Array.of(0, 1),
          vocabulary: ['dark', 'heist'],
        },
      },
    );
    const spec = { genres: false, textDims: 16, tags: true, numeric: false };
    const withTags = buildContentFeatures(tagged, data.itemIds, data.itemCounts(), spec);
    const without = buildContentFeatures(tagged, data.itemIds, data.itemCounts(), { ...spec, tags: false });
    const row = (f: typeof withTags, i: number) => Array.from(f.matrix.subarray(i * 16, (i + 1) * 16));
    expect(row(withTags, 2)).not.toEqual(row(without, 2)); // movie 3 carries the tags
    expect(row(withTags, 5).some((v, b) => v !== 0 && row(without, 5)[b] === 0)).toBe(false);
  });

  it('names the movies that have no content', () => {
    const { data, movies } = tinyProblem();
    const list = Array.from({ length: 39 }, (_, k) => ({
      movieId: movies.movieIds[k + 1]!,
      title: movies.titles[k + 1]!,
      year: movies.years[k + 1]!,
      genres: [],
    }));
    expect(() =>
      buildContentFeatures(newMovies(list), data.itemIds, data.itemCounts(), {
        genres: true,
        textDims: 0,
        tags: false,
        numeric: false,
      }),
    ).toThrow(/no content for 1 of 40 rated movies \(movieId 1\)/);
  });
});

describe('hybrid-nn', () => {
  it('needs the catalogue unless content is off', async () => {
    const { data } = tinyProblem();
    await expect(new HybridNnModel(small).fit(data)).rejects.toThrow(ConfigError);
    await expect(new HybridNnModel(small).fit(data)).rejects.toThrow(/pass fit\(train, \{ catalogue \}\)/);
    expect(() => new HybridNnModel({ ...small, hidden: '0' })).toThrow(/hidden: "0" must be/);
    const off = new HybridNnModel({ ...small, content: false, epochs: 1 });
    await off.fit(data);
    expect(off.network.shape.contentIn).toBe(0);
  });

  it('training loss and train RMSE decrease on a tiny problem, on the native backend when required', async () => {
    const { data, movies } = tinyProblem();
    const m = new HybridNnModel(small);
    const reports: EpochReport[] = [];
    await m.fit(data, { catalogue: movies, onEpoch: (r) => reports.push(r) });
    expect(reports).toHaveLength(25);
    expect(reports[24]!.loss!).toBeLessThan(reports[0]!.loss! * 0.5);
    expect(reports[24]!.trainRmse!).toBeLessThan(reports[0]!.trainRmse!);
    expect(reports[24]!.trainRmse!).toBeLessThan(0.6);
    if (REQUIRE_NATIVE) expect(m.trainingInfo?.backend).toBe('tensorflow');
    // Unrated movies keep no collaborative signal: their embedding and bias are zero.
    const { weights, shape } = m.network;
    expect(
      Array.from(weights.itemEmb.subarray(39 * shape.factors, 40 * shape.factors)).every((v) => v === 0),
    ).toBe(true);
    expect(weights.itemBias[39]).toBe(0);
    // Content generalises: a user who loves Action scores an unseen Action movie above an unseen Drama movie.
    const scores = new Float32Array(40);
    m.scoreAll(0, scores);
    const unseen = (g: number) =>
      Array.from({ length: 39 }, (_, i) => i).filter((i) => i % 3 === g && Number.isNaN(data.rating(0, i)));
    const mean = (xs: number[]) => xs.reduce((s, i) => s + scores[i]!, 0) / xs.length;
    expect(mean(unseen(0))).toBeGreaterThan(mean(unseen(2)) + 1);
  });

  it('typed-array scoring matches the TensorFlow forward pass', async () => {
    const { data, movies } = tinyProblem();
    const m = new HybridNnModel({ ...small, epochs: 3, gmfFactors: 4 });
    await m.fit(data, { catalogue: movies });
    const { tf } = await loadTensorFlow();
    const { shape, weights, content } = m.network;
    const net = new TfNetwork(tf, shape, weights, content);
    const users = Int32Array.from({ length: 40 }, () => 7);
    const items = Int32Array.from({ length: 40 }, (_, i) => i);
    const viaTf = scorePairs(tf, net, { users, items });
    net.dispose();
    const viaTs = new Float32Array(40);
    m.scoreAll(7, viaTs);
    for (let i = 0; i < 40; i++) expect(viaTs[i]).toBeCloseTo(viaTf[i]!, 4);
  });

  it('is reproducible with a seed and save/load round-trips to identical outputs', async () => {
    const { data, movies } = tinyProblem();
    const fitOnce = async () => {
      const m = new HybridNnModel({ ...small, epochs: 4, holdout: 0.1, dropout: 0.2 });
      await m.fit(data, { catalogue: movies });
      return m;
    };
    const a = await fitOnce();
    const users = Int32Array.from({ length: 200 }, (_, k) => k % 30);
    const items = Int32Array.from({ length: 200 }, (_, k) => (k * 7) % 40);
    const pa = a.predict(users, items);
    if (a.trainingInfo?.backend !== 'tensorflow') {
      // The JS backends are deterministic; native TensorFlow may reorder float sums across threads.
      expect(Array.from((await fitOnce()).predict(users, items))).toEqual(Array.from(pa));
    }
    const dir = mkdtempSync(join(tmpdir(), 'reelab-hybrid-'));
    await saveModel(a, dir);
    const { model: b } = await loadModel(dir);
    expect(b.name).toBe('hybrid-nn');
    expect(Array.from(b.predict(users, items))).toEqual(Array.from(pa));
    expect(Array.from(b.recommend(3, 5).items)).toEqual(Array.from(a.recommend(3, 5).items));
    const enc = (b as HybridNnModel).encodeContent(
      newMovies([{ movieId: 999, title: 'Blast Story (1990)', year: 1990, genres: ['Action'] }]),
      0,
    );
    expect(enc).not.toBeNull();
    expect(enc![0]).toBe(1);
  });

  it('scores a new movie from its content alone (seed 003: predict for a new movie)', async () => {
    const { data, movies } = tinyProblem();
    const m = new HybridNnModel(small);
    await m.fit(data, { catalogue: movies });
    // Movie 39 was never rated: a "new movie" with its content scores exactly as the model scores it.
    for (const u of [0, 1, 2]) {
      const known = m.predict(Int32Array.of(u), Int32Array.of(39))[0]!;
      expect(m.predictNewMovie(u, movies, movies.rowOfItem[39]!)).toBeCloseTo(known, 5);
    }
    // A brand-new Comedy (genre 1) is predicted higher for Comedy lovers (u % 3 === 1) than for the others.
    const newComedy = newMovies([
      { movieId: 999, title: 'Laugh Story 999 (1995)', year: 1995, genres: ['Comedy'] },
    ]);
    let lovers = 0;
    let others = 0;
    for (let u = 0; u < 30; u++) {
      if (u % 3 === 1) lovers += m.predictNewMovie(u, newComedy, 0) / 10;
      else others += m.predictNewMovie(u, newComedy, 0) / 20;
    }
    expect(lovers).toBeGreaterThan(others + 0.5);
  });

  it('implicit mode learns to score held positives above unrated movies', async () => {
    const { data, movies } = tinyProblem();
    const m = new HybridNnModel({
      ...small,
      mode: 'implicit',
      negatives: 3,
      threshold: 4,
      epochs: 20,
    });
    const reports: EpochReport[] = [];
    await m.fit(data, { catalogue: movies, onEpoch: (r) => reports.push(r) });
    expect(reports[reports.length - 1]!.loss!).toBeLessThan(reports[0]!.loss!);
    // Users like every third movie: liked-genre movies outrank the others for user 1 (likes Comedy).
    const s = new Float32Array(40);
    m.scoreAll(1, s);
    let liked = 0;
    let other = 0;
    for (let i = 0; i < 39; i++) {
      if (i % 3 === 1) liked += s[i]! / 13;
      else other += s[i]! / 26;
    }
    expect(liked).toBeGreaterThan(other);
  });
});

describe('neumf', () => {
  it.each(['neumf', 'gmf', 'mlp'] as const)(
    '%s variant trains (loss decreases) and round-trips',
    async (variant) => {
      const { data } = tinyProblem();
      const m = new NeumfModel({
        variant,
        factors: 8,
        hidden: '16,8',
        epochs: 8,
        holdout: 0,
        batchSize: 64,
        learningRate: 0.01,
        seed: 1,
      });
      const reports: EpochReport[] = [];
      await m.fit(data, { onEpoch: (r) => reports.push(r) });
      expect(reports[7]!.loss!).toBeLessThan(reports[0]!.loss!);
      const { shape } = m.network;
      expect(shape.hidden.length > 0).toBe(variant !== 'gmf');
      expect(shape.gmfFactors > 0).toBe(variant !== 'mlp');
      const dir = mkdtempSync(join(tmpdir(), 'reelab-neumf-'));
      await saveModel(m, dir);
      const { model } = await loadModel(dir);
      const s1 = new Float32Array(40);
      const s2 = new Float32Array(40);
      m.scoreAll(2, s1);
      model.scoreAll(2, s2);
      expect(Array.from(s2)).toEqual(Array.from(s1));
    },
  );
});

describe.runIf(HAS_ML100K)('hybrid-nn on ml-100k u1 (real data)', () => {
  it('beats the baseline RMSE (0.960 on u1)', async () => {
    const dataDir = realDataDir();
    const all = loadRatings('ml-100k', { dataDir });
    const split = makeSplit(all, 'u1', 'ml-100k', { dataDir });
    const baseline = new BaselineModel();
    await baseline.fit(split.train);
    const base = evaluateRatings(baseline, split.test).rmse;
    const m = new HybridNnModel({ epochs: 6, batchSize: 1024, learningRate: 0.003 });
    await m.fit(split.train, { catalogue: loadCatalogue('ml-100k', all.itemIds, { dataDir }) });
    const rmse = evaluateRatings(m, split.test).rmse;
    if (REQUIRE_NATIVE) expect(m.trainingInfo?.backend).toBe('tensorflow');
    expect(base).toBeCloseTo(0.96, 2);
    expect(rmse).toBeLessThan(base - 0.015);
  }, 600_000);
});
