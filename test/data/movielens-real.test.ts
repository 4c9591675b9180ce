import { describe, expect, it } from 'vitest';
import { rowOfMovie } from '../../lib/data/catalogue';
import { describeDataset, loadDataset, loadMovies, loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

const dataDir = realDataDir();

describe.runIf(HAS_ML100K)('ml-100k (real files)', () => {
  it('has the published counts', () => {
    const s = describeDataset('ml-100k', { dataDir });
    expect([s.users, s.items, s.ratings, s.catalogueMovies]).toEqual([943, 1682, 100000, 1682]);
    expect([s.ratingMin, s.ratingMax]).toEqual([1, 5]);
  });

  it('decodes u.item titles from Latin-1', () => {
    const movie = loadMovies('ml-100k', { dataDir }).find((m) => m.movieId === 543);
    expect(movie?.title).toBe('Misérables, Les (1995)');
    expect(movie?.year).toBe(1995);
  });

  it('u1.base + u1.test are exactly u.data, over the same id maps', () => {
    const all = loadRatings('ml-100k', { dataDir });
    const split = makeSplit(all, 'u1', 'ml-100k', { dataDir });
    expect(split.train.size).toBe(80000);
    expect(split.test.size).toBe(20000);
    expect(split.train.userIds).toBe(all.userIds);
    const key = (u: number, i: number) => u * 4096 + i;
    const fromAll = new Map<number, number>();
    for (let k = 0; k < all.size; k++) fromAll.set(key(all.users[k]!, all.items[k]!), all.ratings[k]!);
    let matched = 0;
    for (const part of [split.train, split.test]) {
      for (let k = 0; k < part.size; k++) {
        expect(fromAll.get(key(part.users[k]!, part.items[k]!))).toBe(part.ratings[k]);
        matched++;
      }
    }
    expect(matched).toBe(all.size);
  });
});

describe.runIf(HAS_ML_LATEST_SMALL)('ml-latest-small (real files)', () => {
  it('has the published counts', () => {
    const s = describeDataset('ml-latest-small', { dataDir });
    expect([s.users, s.items, s.ratings, s.catalogueMovies]).toEqual([610, 9724, 100836, 9742]);
    expect([s.ratingMin, s.ratingMax]).toEqual([0.5, 5]);
  });

  it('loads the user-sorted ratings.csv as row pointers: the users column is derived, the CSR shares the items', () => {
    const r = loadRatings('ml-latest-small', { dataDir });
    expect(r.csr().indices).toBe(r.items);
    expect(r.userCounts()[r.userIds.index(1)]).toBe(232);
    expect(r.userIds.id(r.users[0]!)).toBe(1);
    expect(r.userIds.id(r.users[r.size - 1]!)).toBe(610);
    let sorted = true;
    for (let k = 1; k < r.size; k++) if (r.users[k]! < r.users[k - 1]!) sorted = false;
    expect(sorted).toBe(true);
  });

  it('parses quoted titles with commas', () => {
    const movies = loadMovies('ml-latest-small', { dataDir });
    const m = movies.find((x) => x.movieId === 11);
    expect(m?.title).toBe('American President, The (1995)');
    expect(m?.genres).toEqual(['Comedy', 'Drama', 'Romance']);
  });
});

describe.runIf(HAS_ML100K && HAS_ML_LATEST_SMALL)('loadDataset on real files', () => {
  it('ml-latest-small: 9742 catalogue movies, 18 unrated with itemIndex -1, 3683 tags, 9742 links', () => {
    const d = loadDataset('ml-latest-small', { dataDir });
    expect([d.ratings.nUsers, d.ratings.nItems, d.ratings.size]).toEqual([610, 9724, 100836]);
    expect(d.movies.size).toBe(9742);
    expect(Array.from(d.movies.itemIndex).filter((i) => i < 0).length).toBe(9742 - 9724);
    expect(d.tags?.size).toBe(3683);
    expect(new Set(d.tags?.userIds).size).toBe(58);
    expect(d.links?.size).toBe(9742);
    expect(d.users).toBeNull();
    const row = rowOfMovie(d.movies, 11);
    expect(d.movies.titles[row]).toBe('American President, The (1995)');
    expect(d.ratings.itemIds.id(d.movies.itemIndex[row]!)).toBe(11);
    expect(describeDataset('ml-latest-small', { dataDir }).tags).toBe(3683);
  });

  it('ml-100k: demographics of 943 users and item 543 decoded from Latin-1', () => {
    const d = loadDataset('ml-100k', { dataDir });
    expect(d.users?.size).toBe(943);
    expect(d.users?.occupationNames.length).toBe(21);
    expect(d.movies.titles[rowOfMovie(d.movies, 543)]).toBe('Misérables, Les (1995)');
    expect(d.tags).toBeNull();
  });
});
