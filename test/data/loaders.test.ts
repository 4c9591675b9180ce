import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { genresOf, rowOfMovie } from '../../lib/data/catalogue';
import { readGenome } from '../../lib/data/genome';
import { describeDataset, loadDataset } from '../../lib/data/load';
import { MOVIELENS } from '../../lib/data/movielens';
import { readRatingsFile } from '../../lib/data/parse-ratings';
import { DataError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

const fixtures = join(__dirname, '..', 'fixtures', 'data');

describe('CSV releases (ml-latest-small layout, CRLF, quoted fields)', () => {
  const d = loadDataset('ml-latest-small', { dataDir: join(fixtures, 'csv') });

  it('indexes rated movies in ascending movieId order and keeps unrated ones with itemIndex -1', () => {
    expect([d.ratings.nUsers, d.ratings.nItems, d.ratings.size]).toEqual([3, 4, 9]);
    expect(Array.from(d.ratings.itemIds.ids)).toEqual([1, 2, 3, 4]);
    expect(Array.from(d.movies.movieIds)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(d.movies.itemIndex)).toEqual([0, 1, 2, 3, -1]);
    expect(Array.from(d.movies.rowOfItem)).toEqual([0, 1, 2, 3]);
  });

  it('parses quoted titles with commas and doubled quotes, years and genres', () => {
    expect(d.movies.titles[1]).toBe('American President, The (1995)');
    expect(d.movies.titles[2]).toBe('Heat, "The Remix" (1995)');
    expect(Array.from(d.movies.years)).toEqual([1995, 1995, 1995, 0, 2001]);
    expect(genresOf(d.movies, 0)).toEqual(['Adventure', 'Animation', 'Children']);
    expect(genresOf(d.movies, 3)).toEqual([]); // (no genres listed)
    // Without a fixed genre order the names are sorted, so columns never depend on file order.
    expect(d.movies.genreNames).toEqual([...d.movies.genreNames].sort());
    expect(rowOfMovie(d.movies, 5)).toBe(4);
    expect(rowOfMovie(d.movies, 6)).toBe(-1);
  });

  it('reads ratings on the half-star scale with timestamps', () => {
    const k = d.ratings.rating(d.ratings.userIds.index(1), d.ratings.itemIds.index(2));
    expect(k).toBe(3.5);
    expect(Array.from(d.ratings.timestamps!.slice(0, 3))).toEqual([100, 200, 300]);
  });

  it('reads tags (quoted, dictionary-encoded as written) and links with empty tmdbId', () => {
    const t = d.tags!;
    expect(t.size).toBe(6);
    expect(Array.from(t.tagIds, (i) => t.vocabulary[i])).toEqual([
      'pixar',
      'Pixar ',
      'fun',
      'politics, US',
      'fun',
      'classic',
    ]);
    expect(Array.from(t.movieIds)).toEqual([1, 1, 1, 2, 2, 5]);
    const l = d.links!;
    expect(Array.from(l.imdbIds)).toEqual([114709, 112346, 113277, 105946, 1]);
    expect(Array.from(l.tmdbIds)).toEqual([862, 9087, -1, 12345, 1]);
    expect(d.users).toBeNull();
    expect(d.genome).toBeNull();
  });

  it('describeDataset counts tags', () => {
    const s = describeDataset('ml-latest-small', { dataDir: join(fixtures, 'csv') });
    expect([s.users, s.items, s.catalogueMovies, s.ratings, s.tags, s.demographics]).toEqual([
      3,
      4,
      5,
      9,
      6,
      null,
    ]);
  });
});

describe('ml-100k layout (tab-separated, Latin-1 u.item, u.user)', () => {
  const d = loadDataset('ml-100k', { dataDir: join(fixtures, 'ml100k') });

  it('decodes Latin-1 titles and keeps the u.genre order', () => {
    expect(d.movies.titles[1]).toBe('Misérables, Les (1995)');
    expect(d.movies.titles[2]).toBe('Café Society (1995)');
    expect(d.movies.genreNames[0]).toBe('unknown');
    expect(genresOf(d.movies, 0)).toEqual(['Animation', "Children's", 'Comedy']);
    expect(Array.from(d.movies.itemIndex)).toEqual([0, 1, 2, -1]);
  });

  it('reads demographics', () => {
    const u = d.users!;
    expect(Array.from(u.userIds)).toEqual([1, 2, 3]);
    expect(Array.from(u.ages)).toEqual([24, 53, 23]);
    expect(Array.from(u.genders)).toEqual([1, 0, 1]);
    expect(Array.from(u.occupations, (o) => u.occupationNames[o])).toEqual(['technician', 'other', 'writer']);
    expect(u.zips).toEqual(['85711', '94043', '32067']);
    expect(u.ageIsGroup).toBe(false);
  });

  it('keeps file order in the COO arrays and sorts in CSR', () => {
    expect(Array.from(d.ratings.users)).toEqual([1, 0, 0, 2, 1]);
    const csr = d.ratings.csr();
    expect(Array.from(csr.indptr)).toEqual([0, 2, 4, 5]);
    expect(Array.from(csr.values)).toEqual([4, 5, 3, 2, 1]);
  });
});

describe('ml-1m and ml-10m layouts ("::"-separated)', () => {
  it('ml-1m: Latin-1 movies.dat, users.dat with occupation codes and age groups', () => {
    const d = loadDataset('ml-1m', { dataDir: join(fixtures, 'ml1m') });
    expect([d.ratings.nUsers, d.ratings.nItems, d.ratings.size, d.movies.size]).toEqual([2, 2, 3, 3]);
    expect(d.movies.titles[0]).toBe('Amélie (2001)');
    const u = d.users!;
    expect(u.ageIsGroup).toBe(true);
    expect(Array.from(u.ages)).toEqual([1, 56]);
    expect(Array.from(u.occupations, (o) => u.occupationNames[o])).toEqual(['K-12 student', 'self-employed']);
  });

  it('ml-10m: half stars and tags.dat whose tag contains "::"', () => {
    const d = loadDataset('ml-10m', { dataDir: join(fixtures, 'ml10m') });
    expect(Array.from(d.ratings.ratings)).toEqual([5, 4.5, 0.5]);
    const t = d.tags!;
    expect(Array.from(t.tagIds, (i) => t.vocabulary[i])).toEqual(['dark hero', 'a::b']);
    expect(Array.from(t.timestamps)).toEqual([1188263867, 1188263880]);
  });
});

describe('tag genome', () => {
  it('reads scores into a dense movies × tags matrix in id order', () => {
    const g = readGenome(join(fixtures, 'genome'), MOVIELENS['ml-25m']);
    expect(Array.from(g.movieIds)).toEqual([1, 3]);
    expect(Array.from(g.tagIds)).toEqual([1, 2, 3]);
    expect(g.tags).toEqual(['007', 'action', 'dark, gritty']);
    expect(Array.from(g.relevance)).toEqual([0.025, 0.5, 0.75, 1, 0.125, 0.0625].map(Math.fround));
  });

  it('refuses a genome with a missing score', () => {
    expect(() => readGenome(join(fixtures, 'csv', 'ml-latest-small'), MOVIELENS['ml-25m'])).toThrow(
      DataError,
    );
  });
});

describe('line endings and trailing blank lines', () => {
  it('accepts LF or CRLF and blank lines at the very end, and counts lines right after them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reelab-lines-'));
    const file = join(dir, 'ratings.csv');
    const fmt = MOVIELENS['ml-latest-small'].ratingsFormat;
    writeFileSync(file, 'userId,movieId,rating,timestamp\n1,1,4.0,100\r\n2,1,0.5,-5\n\r\n\n');
    const raw = readRatingsFile(file, fmt);
    expect(Array.from(raw.ratings)).toEqual([4, 0.5]);
    expect(Array.from(raw.timestamps)).toEqual([100, -5]);
    writeFileSync(file, 'userId,movieId,rating,timestamp\n1,1,4.0,100\n\n\n2,1,0.5,7\n');
    expect(() => readRatingsFile(file, fmt)).toThrow(/ratings.csv:3: empty line in the middle/);
    writeFileSync(file, 'userId,movieId,rating,timestamp\n1,1,4.0,100\n2,1,0.5,7');
    expect(readRatingsFile(file, fmt).users.length).toBe(2); // no newline at the end
  });
});

describe('ratings byte parser: fast path and checking path agree', () => {
  it('reads randomly formatted valid rows exactly (integers, one or more decimals, negative times, CRLF)', () => {
    const rng = new Rng(17);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-fuzz-'));
    const file = join(dir, 'ratings.csv');
    const rows: Array<[number, number, number, number]> = [];
    const lines = ['userId,movieId,rating,timestamp'];
    for (let k = 0; k < 3000; k++) {
      const user = 1 + Math.floor(k / 10);
      const item = 1 + (k % 10) * 1000 + rng.int(999);
      const halfStars = 1 + rng.int(10);
      const rating = halfStars / 2;
      const ts = rng.int(3) === 0 ? -1 - rng.int(100000) : rng.int(2 ** 31 - 1);
      const text = [String(rating), rating.toFixed(1), rating.toFixed(2), rating.toFixed(3)][rng.int(4)]!;
      rows.push([user, item, rating, ts]);
      lines.push(`${user},${item},${text},${ts}`);
    }
    writeFileSync(file, lines.join(rng.int(2) ? '\r\n' : '\n'));
    const raw = readRatingsFile(file, MOVIELENS['ml-latest-small'].ratingsFormat);
    expect(raw.users.length).toBe(rows.length);
    for (let k = 0; k < rows.length; k++) {
      expect([raw.users[k], raw.items[k], raw.ratings[k], raw.timestamps[k]]).toEqual(rows[k]);
    }
  });
});
