import { describe, expect, it } from 'vitest';
import {
  cosineSimilarityMatrix,
  genreMoviesByReleaseYear,
  genreRatingsByYear,
  mainGenres,
  meanConfidenceInterval,
  studentTQuantile,
  summarizeValues,
  userItemMatrix,
} from '../../lib/viz/aggregate';
import { tinyDataset } from './fixture';

describe('genre counts by year', () => {
  it('counts ratings per rating year and genre, with all ratings of the year as total', () => {
    const { ratings, movies } = tinyDataset();
    expect(movies.genreNames).toEqual([
      '(no genres listed)',
      'Animation',
      'Comedy',
      'Drama',
      'Horror',
      'IMAX',
    ]);
    const t = genreRatingsByYear(ratings, movies);
    expect(t.years).toEqual([1999, 2000, 2001]);
    expect(Array.from(t.totals)).toEqual([1, 2, 4]);
    const g = t.genres.length;
    const row = (y: number) => Array.from(t.counts as Int32Array).slice(y * g, (y + 1) * g);
    // 1999: Delta (no genres); 2000: Alpha (Animation, Comedy) + Beta (Comedy);
    // 2001: Gamma (Horror, IMAX) twice + Alpha twice
    expect(row(0)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(row(1)).toEqual([0, 1, 2, 0, 0, 0]);
    expect(row(2)).toEqual([0, 2, 2, 0, 2, 2]);
  });

  it('counts catalogue movies per release year, unknown years left out', () => {
    const { movies } = tinyDataset();
    const t = genreMoviesByReleaseYear(movies);
    expect(t.years[0]).toBe(1995);
    expect(t.years[t.years.length - 1]).toBe(2001);
    const g = t.genres.length;
    expect(Array.from(t.totals)[0]).toBe(2); // Alpha, Beta
    expect(Array.from(t.totals)[6]).toBe(2); // Gamma, Epsilon
    expect(Array.from(t.counts as Int32Array).slice(6 * g, 7 * g)).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('main genre', () => {
  it('picks the rarest content genre, skipping IMAX and "(no genres listed)"', () => {
    const { movies } = tinyDataset();
    // catalogue frequencies: Comedy 2, every other genre 1
    expect(mainGenres(movies)).toEqual(['Animation', 'Comedy', 'Horror', '(none)', 'Drama']);
  });
});

describe('confidence intervals', () => {
  it('uses Student t quantiles', () => {
    expect(studentTQuantile(0.95, 9)).toBeCloseTo(2.262157, 5);
    expect(studentTQuantile(0.95, 1e6)).toBeCloseTo(1.959966, 4);
  });

  it('mean ± t·s/√n by hand', () => {
    const ci = meanConfidenceInterval([1, 2, 3, 4]);
    // mean 2.5, s = √(5/3), se = s/2, t(0.975, 3) = 3.182446
    const se = Math.sqrt(5 / 3) / 2;
    expect(ci.mean).toBe(2.5);
    expect(ci.se).toBeCloseTo(se, 12);
    expect(ci.upper - ci.mean).toBeCloseTo(3.182446 * se, 5);
    expect(ci.mean - ci.lower).toBeCloseTo(3.182446 * se, 5);
    expect(meanConfidenceInterval([7])).toMatchObject({ mean: 7, lower: 7, upper: 7, n: 1 });
    expect(Number.isNaN(meanConfidenceInterval([]).mean)).toBe(true);
  });
});

describe('matrices and summaries', () => {
  it('cosine similarity among chosen rows', () => {
    const factors = Float32Array.from([1, 0, 0, 2, 1, 1, 0, 0]); // rows: (1,0) (0,2) (1,1) (0,0)
    const m = cosineSimilarityMatrix(factors, 2, [0, 1, 2, 3]);
    expect(m[0 * 4 + 1]).toBeCloseTo(0, 7);
    expect(m[0 * 4 + 2]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[2 * 4 + 0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1 * 4 + 1]).toBeCloseTo(1, 6);
    expect(m[3 * 4 + 3]).toBe(0); // zero row
  });

  it('user × item matrix and value summaries', () => {
    const { ratings } = tinyDataset();
    const R = userItemMatrix(ratings);
    expect(R.nRows).toBe(3);
    expect(R.nCols).toBe(4);
    expect(Array.from(R.indptr)).toEqual([0, 3, 5, 7]);
    const [s] = summarizeValues({ ratings: R });
    expect(s).toMatchObject({ name: 'ratings', count: 7, min: 0.5, median: 4, max: 5 });
    expect(s!.mean).toBeCloseTo(23 / 7, 6);
    // typed arrays are value lists, not objects with `values` (which is a method on them)
    const [c] = summarizeValues({ counts: Int32Array.from([3, 1, 2, 1]) });
    expect(c).toMatchObject({ count: 4, min: 1, median: 1, max: 3, p99: 3 });
  });
});
