import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGenome } from '../../lib/data/genome';
import { loadDataset } from '../../lib/data/load';
import { MOVIELENS } from '../../lib/data/movielens';
import { makeSplit } from '../../lib/data/split';
import { type FeatureDb, openFeatureDb } from '../../lib/features/duckdb';
import {
  countHistogram,
  genreCountsByYear,
  itemPopularity,
  ratingsByYear,
  ratingValueCounts,
  userActivity,
  utcYear,
} from '../../lib/features/eda';
import { featureRow, featureValue, rowOfId, sparseRow, topEntries } from '../../lib/features/matrix';
import { genomeFeatures, genomeMetaTags, movieFeatures, tagTfidf } from '../../lib/features/movies';
import { userFeatures } from '../../lib/features/users';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

/*
 * Fixture (test/fixtures/data/csv/ml-latest-small), hand-written:
 *   ratings  u1: m1 4.0, m2 3.5, m3 5.0   u2: m1 2.0, m4 4.5   u3: m2 1.0, m3 3.0, m4 4.0, m1 5.0
 *   movies   m1 Toy Story (1995) Adventure|Animation|Children; m2 (1995) Comedy|Drama|Romance;
 *            m3 (1995) Action|Crime; m4 Babylon 5 (no year, no genres); m5 (2001) Drama, unrated
 *   tags     m1: "pixar", "Pixar ", "fun"; m2: "politics, US", "fun"; m5: "classic"
 */
const dataDir = join(__dirname, '..', 'fixtures', 'data', 'csv');
const data = loadDataset('ml-latest-small', { dataDir });
let db: FeatureDb;

beforeAll(async () => {
  db = await openFeatureDb(data);
});
afterAll(() => db.close());

describe('FeatureDb tables', () => {
  it('holds ratings, movies, genres and tags with ids and indices', async () => {
    const r = await db.query('SELECT count(*)::INTEGER AS n, sum(rating)::DOUBLE AS s FROM ratings');
    expect(r).toEqual({ n: [9], s: [32] });
    const m = await db.query('SELECT movie_id, item, year, genres FROM movies ORDER BY movie_id');
    expect(m.item).toEqual([0, 1, 2, 3, -1]);
    expect(m.year).toEqual([1995, 1995, 1995, null, 2001]);
    expect(m.genres).toEqual([
      'Adventure|Animation|Children',
      'Comedy|Drama|Romance',
      'Action|Crime',
      '',
      'Drama',
    ]);
    const t = await db.query('SELECT tag, item FROM tags WHERE movie_id = 5');
    expect(t).toEqual({ tag: ['classic'], item: [-1] });
    const g = await db.query("SELECT count(*)::INTEGER AS n FROM movie_genres WHERE genre = 'Drama'");
    expect(g.n).toEqual([2]);
  });
});

describe('movie features', () => {
  it('matches hand-computed rows (items)', async () => {
    const f = await movieFeatures(db);
    expect(f.rows).toBe(4);
    expect(Array.from(f.ids)).toEqual([1, 2, 3, 4]);
    expect(Array.from(f.index)).toEqual([0, 1, 2, 3]);
    const m1 = featureRow(f, 0);
    expect(m1.year).toBe(1995);
    expect(m1.year_known).toBe(1);
    expect(m1.popularity).toBe(3);
    expect(m1.mean_rating).toBeCloseTo((4 + 2 + 5) / 3, 6);
    expect(m1['genre:Adventure']).toBe(1);
    expect(m1['genre:Drama']).toBe(0);
    const m4 = featureRow(f, 3);
    expect([m4.year, m4.year_known, m4.popularity, m4.mean_rating]).toEqual([0, 0, 2, 4.25]);
    expect(Object.entries(m4).filter(([k, v]) => k.startsWith('genre:') && v !== 0)).toEqual([]);
    expect(f.columns.filter((c) => c.startsWith('genre:'))).toEqual(
      data.movies.genreNames.map((g) => `genre:${g}`),
    );
  });

  it('covers unrated catalogue movies with zeros when asked', async () => {
    const f = await movieFeatures(db, { rows: 'catalogue' });
    expect(f.rows).toBe(5);
    const r = rowOfId(f, 5);
    expect(f.index[r]).toBe(-1);
    expect([
      featureValue(f, r, 'popularity'),
      featureValue(f, r, 'mean_rating'),
      featureValue(f, r, 'year'),
    ]).toEqual([0, 0, 2001]);
    expect(featureValue(f, r, 'genre:Drama')).toBe(1);
    const table = await db.query('SELECT count(*)::INTEGER AS n FROM movie_features');
    expect(table.n).toEqual([5]);
  });

  it('tag TF-IDF follows the documented formula', async () => {
    const t = await tagTfidf(db);
    // Terms by document frequency, then alphabetically: fun (2 movies), then df 1: classic, pixar, politics, us.
    expect(t.columns).toEqual(['fun', 'classic', 'pixar', 'politics, us']);
    const N = 3; // tagged movies: 1, 2, 5
    const idf = (df: number) => Math.log((1 + N) / (1 + df)) + 1;
    const m1 = { pixar: 2 * idf(1), fun: 1 * idf(2) };
    const n1 = Math.hypot(m1.pixar, m1.fun);
    const row1 = sparseRow(t, rowOfId(t, 1));
    expect(row1.pixar).toBeCloseTo(m1.pixar / n1, 6);
    expect(row1.fun).toBeCloseTo(m1.fun / n1, 6);
    expect(Object.keys(row1).length).toBe(2);
    const m2 = { politics: idf(1), fun: idf(2) };
    const row2 = sparseRow(t, rowOfId(t, 2));
    expect(row2['politics, us']).toBeCloseTo(m2.politics / Math.hypot(m2.politics, m2.fun), 6);
    expect(topEntries(t, rowOfId(t, 1), 1)).toEqual([
      { column: 'pixar', value: expect.closeTo(m1.pixar / n1, 6) },
    ]);
    // Movie 5 is tagged but unrated: not a row of the item-aligned table, but present in the catalogue one.
    expect(t.rows).toBe(4);
    const c = await tagTfidf(db, { rows: 'catalogue', maxTerms: 2 });
    expect(c.columns).toEqual(['fun', 'classic']);
    expect(sparseRow(c, rowOfId(c, 5)).classic).toBeCloseTo(1, 6);
    expect(sparseRow(c, rowOfId(c, 1)).fun).toBeCloseTo(1, 6); // pixar is out of the vocabulary
  });
});

describe('user features', () => {
  it('matches hand-computed rows', async () => {
    const f = await userFeatures(db);
    expect(Array.from(f.ids)).toEqual([1, 2, 3]);
    const u1 = featureRow(f, 0);
    expect(u1.activity).toBe(3);
    expect(u1.mean_rating).toBeCloseTo(12.5 / 3, 6);
    expect(u1.rating_var).toBeCloseTo((16 + 12.25 + 25) / 3 - (12.5 / 3) ** 2, 5);
    expect([u1['genre_count:Adventure'], u1['genre_mean:Adventure']]).toEqual([1, 4]);
    expect([u1['genre_count:Comedy'], u1['genre_mean:Comedy']]).toEqual([1, 3.5]);
    expect([u1['genre_count:Action'], u1['genre_mean:Action']]).toEqual([1, 5]);
    const u2 = featureRow(f, 1);
    expect([u2.activity, u2.mean_rating, u2.rating_var]).toEqual([2, 3.25, 1.5625]);
    expect([u2['genre_count:Comedy'], u2['genre_mean:Comedy']]).toEqual([0, 0]);
    const u3 = featureRow(f, 2);
    expect([u3.activity, u3.mean_rating, u3.rating_var]).toEqual([4, 3.25, 2.1875]);
    expect([u3['genre_count:Adventure'], u3['genre_mean:Adventure']]).toEqual([1, 5]);
    expect([u3['genre_count:Drama'], u3['genre_mean:Drama']]).toEqual([1, 1]);
    expect(f.data.every((v) => Number.isFinite(v))).toBe(true);
    const sql = await db.query(
      'SELECT activity, mean_rating, "genre_count:Adventure" AS adv FROM user_features WHERE user_id = 3',
    );
    expect(sql).toEqual({ activity: [4], mean_rating: [3.25], adv: [1] });
  });

  it('uses only the ratings it was given (a training part), so test ratings do not leak', async () => {
    const split = makeSplit(data.ratings, 'leave-last-out', 'fixture');
    const trainDb = await openFeatureDb({ ...data, ratings: split.train });
    try {
      const f = await userFeatures(trainDb);
      // u3's latest rating (m4 4.0 at t320) is held out: u3 keeps 1.0, 3.0, 5.0.
      expect(featureRow(f, 2).activity).toBe(3);
      expect(featureRow(f, 2).mean_rating).toBe(3);
    } finally {
      trainDb.close();
    }
  });

  it('adds demographics when present (ml-100k layout)', async () => {
    const d = loadDataset('ml-100k', { dataDir: join(__dirname, '..', 'fixtures', 'data', 'ml100k') });
    const ddb = await openFeatureDb(d);
    try {
      const f = await userFeatures(ddb);
      const u2 = featureRow(f, 1); // user 2: 53, F, other; rated m1 3 and m2 (Drama, Mystery) 2
      expect([
        u2.demographics_known,
        u2.age,
        u2.gender_m,
        u2['occupation:other'],
        u2['occupation:writer'],
      ]).toEqual([1, 53, 0, 1, 0]);
      expect([u2.activity, u2.mean_rating, u2['genre_count:Drama'], u2['genre_mean:Mystery']]).toEqual([
        2, 2.5, 1, 2,
      ]);
    } finally {
      ddb.close();
    }
  });
});

describe('genome features', () => {
  const genome = readGenome(join(__dirname, '..', 'fixtures', 'data', 'genome'), MOVIELENS['ml-25m']);

  it('aligns relevance with items and marks uncovered movies', () => {
    const f = genomeFeatures(genome, data.movies);
    expect(f.columns).toEqual(['genome:007', 'genome:action', 'genome:dark, gritty', 'genome_known']);
    expect(Array.from(f.data.subarray(0, 4))).toEqual([0.025, 0.5, 0.75, 1].map(Math.fround));
    expect(Array.from(f.data.subarray(4, 8))).toEqual([0, 0, 0, 0]); // movie 2: not in the genome
    expect(Array.from(f.data.subarray(8, 12))).toEqual([1, 0.125, 0.0625, 1].map(Math.fround));
    // Top-variance tag: 007 (0.025 vs 1) varies most.
    expect(genomeFeatures(genome, data.movies, { tags: 1 }).columns).toEqual(['genome:007', 'genome_known']);
  });

  it('meta-tags list each movie’s most relevant tags', () => {
    const meta = genomeMetaTags(genome, { k: 2, minRelevance: 0.1 });
    expect(meta).toEqual([
      {
        movieId: 1,
        tags: [
          { tag: 'dark, gritty', relevance: 0.75 },
          { tag: 'action', relevance: 0.5 },
        ],
      },
      {
        movieId: 3,
        tags: [
          { tag: '007', relevance: 1 },
          { tag: 'action', relevance: 0.125 },
        ],
      },
    ]);
  });
});

describe('EDA functions', () => {
  it('count ratings, popularity, activity, genres by year and ratings by year', () => {
    expect(ratingValueCounts(data.ratings)).toEqual({
      values: [1, 2, 3, 3.5, 4, 4.5, 5],
      counts: [1, 1, 1, 1, 2, 1, 2],
    });
    const pop = itemPopularity(data.ratings);
    expect(Array.from(pop.counts)).toEqual([3, 2, 2, 2]);
    expect(pop.items[0]).toBe(0);
    const act = userActivity(data.ratings);
    expect(Array.from(act.users)).toEqual([2, 0, 1]);
    expect(Array.from(countHistogram(act.counts))).toEqual([0, 0, 1, 1, 1]);
    const g = genreCountsByYear(data.movies);
    expect(g.years).toEqual(Array.from({ length: 7 }, (_, i) => 1995 + i));
    const drama = g.genres.indexOf('Drama');
    expect(g.counts[0 * g.genres.length + drama]).toBe(1);
    expect(g.counts[6 * g.genres.length + drama]).toBe(1);
    expect(ratingsByYear(data.ratings)).toEqual({ years: [1970], counts: [9], meanRating: [32 / 9] });
    expect(utcYear(Date.UTC(2015, 0, 1) / 1000)).toBe(2015);
    expect(utcYear(Date.UTC(2015, 0, 1) / 1000 - 1)).toBe(2014);
  });
});

describe.runIf(HAS_ML100K && HAS_ML_LATEST_SMALL)('features on real data', () => {
  it('ml-latest-small: every rated movie has a row, popularity sums to the ratings, Toy Story is tagged "pixar"', async () => {
    const d = loadDataset('ml-latest-small', { dataDir: realDataDir() });
    const rdb = await openFeatureDb(d);
    try {
      const f = await movieFeatures(rdb);
      expect(f.rows).toBe(9724);
      let total = 0;
      for (let r = 0; r < f.rows; r++) total += featureValue(f, r, 'popularity');
      expect(total).toBe(100836);
      const t = await tagTfidf(rdb);
      expect(topEntries(t, rowOfId(t, 1), 3).map((e) => e.column)).toContain('pixar');
      const u = await userFeatures(rdb);
      expect(u.rows).toBe(610);
      expect(u.data.every((v) => Number.isFinite(v))).toBe(true);
      // Cross-check against DuckDB's own aggregates over the same ratings table.
      const agg = await rdb.query(
        'SELECT user_id, count(*)::INTEGER AS n, avg(rating) AS mean, var_pop(rating) AS var FROM ratings GROUP BY user_id ORDER BY user_id',
      );
      for (let r = 0; r < u.rows; r++) {
        expect(u.ids[r]).toBe(agg.user_id![r]);
        expect(featureValue(u, r, 'activity')).toBe(agg.n![r]);
        expect(featureValue(u, r, 'mean_rating')).toBeCloseTo(agg.mean![r] as number, 5);
        expect(featureValue(u, r, 'rating_var')).toBeCloseTo(agg.var![r] as number, 4);
      }
      const drama = await rdb.query(
        "SELECT r.user_id, count(*)::INTEGER AS n FROM ratings r JOIN movie_genres g USING (item) WHERE g.genre = 'Drama' GROUP BY r.user_id ORDER BY r.user_id",
      );
      for (let k = 0; k < drama.user_id!.length; k++) {
        expect(featureValue(u, rowOfId(u, drama.user_id![k] as number), 'genre_count:Drama')).toBe(
          drama.n![k],
        );
      }
    } finally {
      rdb.close();
    }
  });
});
