import type { Interactions } from '../data/interactions';
import { loadMovies } from '../data/load';
import type { Movie } from '../data/movies';
import { type ItemGenres, itemGenresFromMovies, wantsItemGenres } from '../models/als-genre';
import { usesMovieContent } from '../models/hybrid-nn';
import type { Recommender } from '../models/recommender';
import { modelEntry } from '../models/registry';

/**
 * Side information some models need besides the ratings, loaded once and only when asked for: movie genres
 * (als-genre, diversity) and movie content (gbdt, hybrid-nn). Shared by `evaluate`, `train` and search trials.
 */
export class ModelInputs {
  private movies: Movie[] | null = null;
  private genres: ItemGenres | null = null;

  constructor(
    readonly dataset: string,
    /** Every rating of the dataset: its id maps define the item indices the genres are given for. */
    readonly all: Interactions,
    readonly options: { dataDir?: string; seed?: number } = {},
  ) {}

  movieTable(): Movie[] {
    this.movies ??= loadMovies(this.dataset, { dataDir: this.options.dataDir, seed: this.options.seed });
    return this.movies;
  }

  itemGenres(): ItemGenres {
    this.genres ??= itemGenresFromMovies(this.movieTable(), this.all.itemIds);
    return this.genres;
  }

  /** Hands genres / movie content to the models that need them. */
  give(model: Recommender): void {
    if (wantsItemGenres(model)) model.setItemGenres(this.itemGenres());
    if (usesMovieContent(model)) model.setMovieContent(this.movieTable());
  }
}

/**
 * Params with the dataset filled in for models that read side information by dataset name (content), unless
 * the caller set it; `dataDir` only at run time (it is machine-local, never part of a logged config).
 */
export function withDatasetParams(
  model: string,
  params: Record<string, unknown>,
  dataset: string,
  dataDir?: string,
): Record<string, unknown> {
  const shape = modelEntry(model).schema.shape;
  const out = { ...params };
  if ('dataset' in shape && (out.dataset === undefined || out.dataset === '')) out.dataset = dataset;
  if ('dataDir' in shape && (out.dataDir === undefined || out.dataDir === '') && dataDir)
    out.dataDir = dataDir;
  return out;
}
