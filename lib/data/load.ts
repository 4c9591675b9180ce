import { join } from 'node:path';
import { ConfigError } from '../util/errors';
import { interactionsFromRaw } from './build';
import { datasetDir, resolveDataDir } from './data-dir';
import type { Interactions } from './interactions';
import { isMovieLensName, MOVIELENS, MOVIELENS_NAMES, type MovieLensSpec } from './movielens';
import { type Movie, readMovies } from './movies';
import { readRatingsFile } from './parse-ratings';
import { generateSynthetic } from './synthetic';

export interface LoadOptions {
  /** Folder holding `<dataset>/` folders; defaults to REELAB_DATA_DIR, else ./data. */
  dataDir?: string;
  /** Seed of the synthetic generator. */
  seed?: number;
}

const SYNTHETIC = /^synthetic:(\d+(?:e\d+)?)$/i;

/** Every dataset name `loadRatings` accepts. */
export function describeDatasetNames(): string {
  return `${MOVIELENS_NAMES.join(', ')} or synthetic:<ratings> (e.g. synthetic:100000)`;
}

export function parseDatasetName(
  name: string,
): { kind: 'movielens'; spec: MovieLensSpec } | { kind: 'synthetic'; ratings: number } {
  if (isMovieLensName(name)) return { kind: 'movielens', spec: MOVIELENS[name] };
  const m = SYNTHETIC.exec(name);
  if (m) return { kind: 'synthetic', ratings: Number(m[1]) };
  throw new ConfigError('dataset', `unknown dataset "${name}"; expected ${describeDatasetNames()}`);
}

/** Loads a dataset's ratings as Interactions (dense indices over the ids that occur in the ratings). */
export function loadRatings(dataset: string, options: LoadOptions = {}): Interactions {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic')
    return generateSynthetic({ ratings: parsed.ratings, seed: options.seed }).ratings;
  const spec = parsed.spec;
  const dir = datasetDir(resolveDataDir(options.dataDir), spec.name, spec.ratingsFile);
  return interactionsFromRaw(readRatingsFile(join(dir, spec.ratingsFile), spec.ratingsFormat));
}

/** The movie catalogue of a MovieLens dataset (synthetic datasets carry their own titles and genres). */
export function loadMovies(dataset: string, options: LoadOptions = {}): Movie[] {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic') {
    const data = generateSynthetic({ ratings: parsed.ratings, seed: options.seed });
    return data.titles.map((title, i) => ({
      movieId: i + 1,
      title,
      year: data.years[i]!,
      genres: data.genres[i]!,
    }));
  }
  const dir = datasetDir(resolveDataDir(options.dataDir), parsed.spec.name, parsed.spec.moviesFile);
  return readMovies(dir, parsed.spec);
}

export interface DatasetSummary {
  dataset: string;
  users: number;
  /** Movies with at least one rating. */
  items: number;
  ratings: number;
  density: number;
  /** Movies in the catalogue file, rated or not. */
  catalogueMovies: number;
  ratingMin: number;
  ratingMax: number;
  ratingMean: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  source: string;
}

/** Counts and ranges of a dataset (what `reelab data describe` prints). */
export function describeDataset(dataset: string, options: LoadOptions = {}): DatasetSummary {
  const ratings = loadRatings(dataset, options);
  const movies = loadMovies(dataset, options);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < ratings.size; k++) {
    const r = ratings.ratings[k]!;
    if (r < lo) lo = r;
    if (r > hi) hi = r;
  }
  let t0 = Infinity;
  let t1 = -Infinity;
  const ts = ratings.timestamps;
  if (ts)
    for (let k = 0; k < ts.length; k++) {
      if (ts[k]! < t0) t0 = ts[k]!;
      if (ts[k]! > t1) t1 = ts[k]!;
    }
  const iso = (t: number) => (Number.isFinite(t) ? new Date(t * 1000).toISOString() : null);
  return {
    dataset,
    users: ratings.nUsers,
    items: ratings.nItems,
    ratings: ratings.size,
    density: ratings.density,
    catalogueMovies: movies.length,
    ratingMin: lo,
    ratingMax: hi,
    ratingMean: ratings.mean(),
    firstTimestamp: iso(t0),
    lastTimestamp: iso(t1),
    source: ratings.source,
  };
}
