import type { RatingsFormat } from './parse-ratings';

/** The MovieLens releases reelab knows: where to get them and how their files are laid out. */
export const MOVIELENS_NAMES = [
  'ml-100k',
  'ml-1m',
  'ml-10m',
  'ml-20m',
  'ml-25m',
  'ml-32m',
  'ml-latest-small',
  'ml-latest',
] as const;
export type MovieLensName = (typeof MOVIELENS_NAMES)[number];

export type MoviesLayout = 'u.item' | 'movies.dat' | 'movies.csv';

export interface MovieLensSpec {
  name: MovieLensName;
  /** GroupLens archive. */
  url: string;
  /** sha256 of the archive, or null where no trustworthy published value is known (then only size is checked). */
  archiveSha256: string | null;
  /** Folder the archive unpacks to (ml-10m unpacks to ml-10M100K). */
  archiveFolder: string;
  ratingsFile: string;
  ratingsFormat: RatingsFormat;
  moviesFile: string;
  moviesLayout: MoviesLayout;
  /** Text encoding of the movie titles file. */
  moviesEncoding: 'latin1' | 'utf8';
  usersFile?: string;
  tagsFile?: string;
  linksFile?: string;
  genomeScoresFile?: string;
  genomeTagsFile?: string;
  /** GroupLens' published counts, used by tests and `data describe`. */
  published?: { users: number; items: number; ratings: number };
}

const CSV_RATINGS: RatingsFormat = {
  delimiter: ',',
  header: 'userId,movieId,rating,timestamp',
  scale: { min: 0.5, max: 5, step: 0.5 },
};
const BASE = 'https://files.grouplens.org/datasets/movielens';

function csvRelease(name: MovieLensName, archiveSha256: string | null, genome: boolean): MovieLensSpec {
  return {
    name,
    url: `${BASE}/${name}.zip`,
    archiveSha256,
    archiveFolder: name,
    ratingsFile: 'ratings.csv',
    ratingsFormat: CSV_RATINGS,
    moviesFile: 'movies.csv',
    moviesLayout: 'movies.csv',
    moviesEncoding: 'utf8',
    tagsFile: 'tags.csv',
    linksFile: 'links.csv',
    ...(genome ? { genomeScoresFile: 'genome-scores.csv', genomeTagsFile: 'genome-tags.csv' } : {}),
  };
}

export const MOVIELENS: Record<MovieLensName, MovieLensSpec> = {
  'ml-100k': {
    name: 'ml-100k',
    url: `${BASE}/ml-100k.zip`,
    archiveSha256: null,
    archiveFolder: 'ml-100k',
    ratingsFile: 'u.data',
    ratingsFormat: { delimiter: '\t', header: null, scale: { min: 1, max: 5, step: 1 } },
    moviesFile: 'u.item',
    moviesLayout: 'u.item',
    moviesEncoding: 'latin1',
    usersFile: 'u.user',
    published: { users: 943, items: 1682, ratings: 100000 },
  },
  'ml-1m': {
    name: 'ml-1m',
    url: `${BASE}/ml-1m.zip`,
    archiveSha256: null,
    archiveFolder: 'ml-1m',
    ratingsFile: 'ratings.dat',
    ratingsFormat: { delimiter: '::', header: null, scale: { min: 1, max: 5, step: 1 } },
    moviesFile: 'movies.dat',
    moviesLayout: 'movies.dat',
    moviesEncoding: 'latin1',
    usersFile: 'users.dat',
    published: { users: 6040, items: 3706, ratings: 1000209 },
  },
  'ml-10m': {
    name: 'ml-10m',
    url: `${BASE}/ml-10m.zip`,
    archiveSha256: null,
    archiveFolder: 'ml-10M100K',
    ratingsFile: 'ratings.dat',
    ratingsFormat: { delimiter: '::', header: null, scale: { min: 0.5, max: 5, step: 0.5 } },
    moviesFile: 'movies.dat',
    moviesLayout: 'movies.dat',
    moviesEncoding: 'utf8',
    tagsFile: 'tags.dat',
    published: { users: 69878, items: 10677, ratings: 10000054 },
  },
  'ml-20m': {
    ...csvRelease('ml-20m', null, true),
    published: { users: 138493, items: 26744, ratings: 20000263 },
  },
  'ml-25m': {
    ...csvRelease('ml-25m', null, true),
    published: { users: 162541, items: 59047, ratings: 25000095 },
  },
  'ml-32m': {
    ...csvRelease('ml-32m', null, false),
    published: { users: 200948, items: 84432, ratings: 32000204 },
  },
  'ml-latest-small': {
    ...csvRelease('ml-latest-small', null, false),
    published: { users: 610, items: 9724, ratings: 100836 },
  },
  'ml-latest': csvRelease('ml-latest', null, true),
};

export function isMovieLensName(name: string): name is MovieLensName {
  return (MOVIELENS_NAMES as readonly string[]).includes(name);
}
