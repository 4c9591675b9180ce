import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../util/errors';
import { interactionsFromRaw } from './build';
import { type MovieCatalogue, movieCatalogue } from './catalogue';
import { datasetDir, resolveDataDir } from './data-dir';
import { readUsers, type UserTable } from './demographics';
import { type Genome, readGenome } from './genome';
import type { IdMap } from './id-map';
import type { Interactions } from './interactions';
import { type LinkTable, readLinks } from './links';
import { isMovieLensName, MOVIELENS, MOVIELENS_NAMES, type MovieLensSpec } from './movielens';
import { ML100K_GENRES, type Movie, readMovies } from './movies';
import { readRatingsFile } from './parse-ratings';
import { generateSynthetic, SYNTHETIC_GENRES, type SyntheticData } from './synthetic';
import { readTags, type TagTable } from './tags';

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
    return syntheticMovies(generateSynthetic({ ratings: parsed.ratings, seed: options.seed }));
  }
  const dir = datasetDir(resolveDataDir(options.dataDir), parsed.spec.name, parsed.spec.moviesFile);
  return readMovies(dir, parsed.spec);
}

function syntheticMovies(data: SyntheticData): Movie[] {
  return data.titles.map((title, i) => ({
    movieId: data.ratings.itemIds.id(i),
    title,
    year: data.years[i]!,
    genres: data.genres[i]!,
  }));
}

/** Optional parts of a dataset that `loadDataset` can read besides ratings and movies. */
export type DatasetPart = 'tags' | 'links' | 'users' | 'genome';

export interface DatasetLoadOptions extends LoadOptions {
  /**
   * Which optional parts to read when the release has them (default: tags, links and users; the genome,
   * 15M scores in ml-25m, only when asked). Asking for a part the release lacks gives null, not an error.
   */
  parts?: DatasetPart[];
}

/** A whole dataset: ratings over dense indices, the movie catalogue aligned with them, and the optional parts. */
export interface Dataset {
  name: string;
  /** Folder the files came from (null for synthetic data). */
  dir: string | null;
  ratings: Interactions;
  movies: MovieCatalogue;
  tags: TagTable | null;
  links: LinkTable | null;
  users: UserTable | null;
  genome: Genome | null;
}

/**
 * Loads ratings, movie metadata and the optional parts of a dataset. The item index space is the rated movies
 * in ascending movieId order; the catalogue (`movies`) keeps unrated movies too, with itemIndex -1, and carries
 * the tags, links and genome that were read (the same tables are also returned as read, for feature code).
 */
export function loadDataset(name: string, options: DatasetLoadOptions = {}): Dataset {
  const parsed = parseDatasetName(name);
  const parts = new Set<DatasetPart>(options.parts ?? ['tags', 'links', 'users']);
  if (parsed.kind === 'synthetic') {
    const data = generateSynthetic({ ratings: parsed.ratings, seed: options.seed });
    return {
      name,
      dir: null,
      ratings: data.ratings,
      movies: movieCatalogue(syntheticMovies(data), data.ratings.itemIds, name, SYNTHETIC_GENRES),
      tags: null,
      links: null,
      users: null,
      genome: null,
    };
  }
  const spec = parsed.spec;
  const dir = datasetDir(resolveDataDir(options.dataDir), spec.name, spec.ratingsFile);
  const ratings = interactionsFromRaw(readRatingsFile(join(dir, spec.ratingsFile), spec.ratingsFormat));
  const side = readSideParts(dir, spec, parts);
  return {
    name,
    dir,
    ratings,
    movies: catalogueFromFiles(dir, spec, ratings.itemIds, side),
    tags: side.tags,
    links: side.links,
    users: parts.has('users') && hasFile(dir, spec.usersFile) ? readUsers(dir, spec) : null,
    genome: side.genome,
  };
}

export interface CatalogueLoadOptions extends LoadOptions {
  /** Optional parts joined onto the catalogue when the release has them (default: tags and links). */
  parts?: Array<'tags' | 'links' | 'genome'>;
}

/**
 * The movie catalogue of a dataset aligned with `itemIds` (the item id map of the dataset's ratings, e.g.
 * `loadRatings(name).itemIds`), with tags and links (and the genome, when asked for) where the release has
 * them. Synthetic datasets get their generated titles, years and genres.
 */
export function loadCatalogue(
  dataset: string,
  itemIds: IdMap,
  options: CatalogueLoadOptions = {},
): MovieCatalogue {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic') {
    const data = generateSynthetic({ ratings: parsed.ratings, seed: options.seed });
    return movieCatalogue(syntheticMovies(data), itemIds, dataset, SYNTHETIC_GENRES);
  }
  const spec = parsed.spec;
  const dir = datasetDir(resolveDataDir(options.dataDir), spec.name, spec.moviesFile);
  const side = readSideParts(dir, spec, new Set(options.parts ?? ['tags', 'links']));
  return catalogueFromFiles(dir, spec, itemIds, side);
}

function hasFile(dir: string, file: string | undefined): boolean {
  return file !== undefined && existsSync(join(dir, file));
}

interface SideParts {
  tags: TagTable | null;
  links: LinkTable | null;
  genome: Genome | null;
}

function readSideParts(dir: string, spec: MovieLensSpec, parts: ReadonlySet<string>): SideParts {
  return {
    tags: parts.has('tags') && hasFile(dir, spec.tagsFile) ? readTags(dir, spec) : null,
    links: parts.has('links') && hasFile(dir, spec.linksFile) ? readLinks(dir, spec) : null,
    genome:
      parts.has('genome') && hasFile(dir, spec.genomeScoresFile) && hasFile(dir, spec.genomeTagsFile)
        ? readGenome(dir, spec)
        : null,
  };
}

function catalogueFromFiles(
  dir: string,
  spec: MovieLensSpec,
  itemIds: IdMap,
  side: SideParts,
): MovieCatalogue {
  return movieCatalogue(
    readMovies(dir, spec),
    itemIds,
    join(dir, spec.moviesFile),
    spec.moviesLayout === 'u.item' ? ML100K_GENRES : [],
    side,
  );
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
  /** Tag applications (null when the release has no tags file). */
  tags: number | null;
  /** Users with demographics (null when the release has none). */
  demographics: number | null;
  ratingMin: number;
  ratingMax: number;
  ratingMean: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  source: string;
}

/** Counts and ranges of a dataset (what `reelab data describe` prints). */
export function describeDataset(dataset: string, options: LoadOptions = {}): DatasetSummary {
  const data = loadDataset(dataset, { ...options, parts: ['tags', 'users'] });
  const ratings = data.ratings;
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
    catalogueMovies: data.movies.size,
    tags: data.tags ? data.tags.size : null,
    demographics: data.users ? data.users.size : null,
    ratingMin: lo,
    ratingMax: hi,
    ratingMean: ratings.mean(),
    firstTimestamp: iso(t0),
    lastTimestamp: iso(t1),
    source: ratings.source,
  };
}
