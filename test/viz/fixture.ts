import { type MovieCatalogue, movieCatalogue } from '../../lib/data/catalogue';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import type { Movie } from '../../lib/data/movies';

/**
 * A hand-written 3-user, 5-movie dataset (nothing from MovieLens) whose counts the viz tests work out by hand:
 * item counts movie 1: 3, 2: 1, 3: 2, 4: 1 (movie 5 is in the catalogue but unrated); user counts 3, 2, 2;
 * ratings by year 1999: 1, 2000: 2, 2001: 4.
 */
export function tinyDataset(): { ratings: Interactions; movies: MovieCatalogue } {
  const t = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const rows: Array<[number, number, number, number]> = [
    [10, 1, 4.0, t('2000-06-01T00:00:00Z')],
    [10, 2, 3.5, t('2000-07-01T00:00:00Z')],
    [10, 3, 5.0, t('2001-01-02T00:00:00Z')],
    [20, 1, 2.0, t('2001-03-01T00:00:00Z')],
    [20, 3, 4.0, t('2001-05-01T00:00:00Z')],
    [30, 1, 4.0, t('2001-05-02T00:00:00Z')],
    [30, 4, 0.5, t('1999-12-31T23:59:59Z')],
  ];
  const userIds = IdMap.fromIds(rows.map((r) => r[0]));
  const itemIds = IdMap.fromIds(rows.map((r) => r[1]));
  const ratings = new Interactions({
    users: Int32Array.from(rows, (r) => userIds.index(r[0])),
    items: Int32Array.from(rows, (r) => itemIds.index(r[1])),
    ratings: Float32Array.from(rows, (r) => r[2]),
    timestamps: Int32Array.from(rows, (r) => r[3]),
    userIds,
    itemIds,
    source: 'tiny fixture',
  });
  const movies: Movie[] = [
    { movieId: 1, title: 'Alpha (1995)', year: 1995, genres: ['Animation', 'Comedy'] },
    { movieId: 2, title: 'Beta (1995)', year: 1995, genres: ['Comedy'] },
    { movieId: 3, title: 'Gamma (2001)', year: 2001, genres: ['Horror', 'IMAX'] },
    { movieId: 4, title: 'Delta', year: null, genres: ['(no genres listed)'] },
    { movieId: 5, title: 'Epsilon (2001)', year: 2001, genres: ['Drama'] },
  ];
  return { ratings, movies: movieCatalogue(movies, itemIds, 'tiny fixture') };
}
