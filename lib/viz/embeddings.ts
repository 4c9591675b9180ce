/**
 * Looking inside a factor model: fit it with progress and MLflow logging, lay its item (or user) factors out
 * with UMAP as a map coloured by genre, list a movie's nearest neighbours, and explain a recommendation by the
 * user's own rated movies that are closest to it. What `notebooks/05-embeddings` calls.
 */
import { genresOf, type MovieCatalogue, rowOfMovie } from '../data/catalogue';
import type { Interactions } from '../data/interactions';
import { type EpochRecord, fitEvaluateRecord } from '../eval/fit-evaluate-record';
import { factorCosine, factorNeighbours, mostSimilarAmong } from '../models/item-similarity';
import type { Recommender } from '../models/recommender';
import { createModel } from '../models/registry';
import { deriveRunSeeds, withModelSeed } from '../models/seeds';
import type { MlflowClient } from '../tracking/mlflow-client';
import { type RunContext, type RunSource, startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { type ProgressOutput, progress } from '../util/progress';
import { cosineSimilarityMatrix, mainGenres } from './aggregate';
import { embeddingMapFigure, type PlotlyFigure, similarityHeatmapFigure } from './figures';
import {
  interleave2d,
  type LabelAgreement,
  labelAgreement,
  type UmapLayout,
  type UmapOptions,
  umapLayout,
} from './umap';

/** Factor matrices of a fitted model (rows × k, row-major). */
export interface Factors {
  k: number;
  users: Float32Array;
  items: Float32Array;
}

/** The factor form of a fitted model (its `batchScorer`), or a ConfigError naming the model. */
export function modelFactors(model: Recommender): Factors {
  const scorer = model.batchScorer?.() ?? null;
  if (!scorer)
    throw new ConfigError(
      'model',
      `${model.name} has no latent factors to map; use a factor model (ials, svd, bpr, pure-svd, svdpp, lmf)`,
    );
  return { k: scorer.factors, users: scorer.userFactors, items: scorer.itemFactors };
}

export interface FitFactorModelOptions {
  /** Registry name (default "ials"). */
  model?: string;
  params?: Record<string, unknown>;
  threads?: number;
  /** MLflow server (null: untracked). */
  tracking?: MlflowClient | null;
  experiment?: string;
  runName?: string;
  dataset?: string;
  seed?: number;
  source?: RunSource;
  sourceName?: string;
  progress?: ProgressOutput;
}

export interface FittedFactorModel {
  model: Recommender;
  factors: Factors;
  /** Per-epoch numbers as recorded (`loss`, `train_rmse`, `epoch_seconds`). */
  epochs: EpochRecord[];
  fitSeconds: number;
  /** The open MLflow run (null when untracked): log figures to it, then `end()` it. */
  run: RunContext | null;
}

/**
 * Fits a registered factor model on `ratings` with a progress bar, logging params and per-epoch numbers to an
 * MLflow run that stays open for the figures that follow (end it with `run.end('FINISHED')`).
 */
export async function fitFactorModel(
  ratings: Interactions,
  options: FitFactorModelOptions = {},
): Promise<FittedFactorModel> {
  const name = options.model ?? 'ials';
  const seed = options.seed ?? 42;
  const probe = createModel(name, withModelSeed(name, options.params ?? {}, seed));
  const run = options.tracking
    ? await startRun(options.tracking, {
        experiment: options.experiment ?? 'reelab-embeddings',
        runName: options.runName ?? `${name} ${options.dataset ?? ratings.source} embeddings`,
        source: options.source ?? 'script',
        sourceName: options.sourceName,
        dataset: options.dataset,
        seed,
        tags: { 'reelab.model': name },
      })
    : null;
  try {
    const total = typeof probe.params.iterations === 'number' ? probe.params.iterations : probe.params.epochs;
    const bar = progress({
      total: typeof total === 'number' ? total : 0,
      label: `fit ${name}`,
      unit: 'epochs',
      output: options.progress,
    });
    const fitted = await fitEvaluateRecord({
      model: name,
      params: options.params,
      modelSeed: deriveRunSeeds(seed).model,
      train: ratings,
      heldOut: null,
      heldOutRole: 'test',
      inputs: null,
      metrics: [],
      protocols: [],
      relevance: null,
      evaluationSeed: seed,
      threads: options.threads,
      run,
      recordParams: { dataset: options.dataset ?? ratings.source, ratings: ratings.size, seed },
      onEpoch: (e) => {
        const loss = e.loss ?? e.trainRmse;
        bar.set(
          e.epoch,
          loss === undefined
            ? undefined
            : `${e.loss !== undefined ? 'loss' : 'train rmse'} ${loss.toFixed(4)}`,
        );
      },
    });
    bar.done(`${fitted.fitSeconds.toFixed(1)}s`);
    const { model, epochs, fitSeconds } = fitted;
    return { model, factors: modelFactors(model), epochs, fitSeconds, run };
  } catch (err) {
    if (run) await run.end('FAILED', { error: err }).catch(() => {});
    throw err;
  }
}

/**
 * The `n` items with the most ratings, most rated first (ties: lower item index) — the stated sub-sampling rule
 * of the maps. Also returns the smallest count kept.
 */
export function mostRatedItems(counts: Int32Array, n: number): { items: Int32Array; minCount: number } {
  const order = Int32Array.from({ length: counts.length }, (_, i) => i).sort(
    (a, b) => counts[b]! - counts[a]! || a - b,
  );
  const items = order.slice(0, Math.min(n, order.length));
  return { items, minCount: items.length ? counts[items[items.length - 1]!]! : 0 };
}

export interface ItemMapOptions {
  /** Map at most this many items: the most rated ones (default 3000). */
  maxItems?: number;
  /** Dataset name for the title. */
  dataset?: string;
  /** Model name for the title. */
  model?: string;
  /** Neighbours for the genre-agreement measure (default 10). */
  agreementK?: number;
  umap?: UmapOptions;
}

export interface ItemMap {
  figure: PlotlyFigure;
  /** Item indices on the map, most rated first, and their coordinates. */
  items: Int32Array;
  layout: UmapLayout;
  /** Main genre of each mapped item (see `mainGenres`). */
  genres: string[];
  /** The sub-sampling rule in words (also in the figure's subtitle). */
  rule: string;
  /** Same-main-genre rate among 2-D map neighbours vs random pairing. */
  mapAgreement: LabelAgreement;
  /** The same measure in the factor space (cosine), what the map tries to preserve. */
  factorAgreement: LabelAgreement;
}

function hoverOf(movies: MovieCatalogue, row: number, count: number): string {
  const year = movies.years[row] ? String(movies.years[row]) : 'year unknown';
  return `<b>${escapeHtml(movies.titles[row]!)}</b><br>${year} · ${escapeHtml(genresOf(movies, row).join(', '))}<br>${count} ratings`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The embedding map of items: UMAP (cosine) of the item factors of the `maxItems` most-rated movies, coloured by
 * main genre, sized by number of ratings, hover with title, year, genres. Reports how strongly genres cluster.
 */
export async function itemEmbeddingMap(
  factors: Factors,
  ratings: Interactions,
  movies: MovieCatalogue,
  options: ItemMapOptions = {},
): Promise<ItemMap> {
  const k = factors.k;
  const counts = ratings.itemCounts();
  const maxItems = options.maxItems ?? 3000;
  const { items, minCount } = mostRatedItems(counts, maxItems);
  const n = items.length;
  const rule =
    n < counts.length
      ? `the ${n} most-rated of ${counts.length} movies (≥ ${minCount} ratings each)`
      : `all ${n} rated movies`;
  const data = new Float32Array(n * k);
  for (let p = 0; p < n; p++) data.set(factors.items.subarray(items[p]! * k, (items[p]! + 1) * k), p * k);
  const layout = await umapLayout(data, n, k, { label: 'UMAP items', ...options.umap });
  const byRow = mainGenres(movies);
  const rows = Array.from(items, (i) => movies.rowOfItem[i]!);
  const genres = rows.map((r) => byRow[r]!);
  const agreementK = options.agreementK ?? 10;
  const mapAgreement = labelAgreement(
    interleave2d(layout.x, layout.y),
    n,
    2,
    genres,
    agreementK,
    'euclidean',
  );
  const factorAgreement = labelAgreement(data, n, k, genres, agreementK, 'cosine');
  const figure = embeddingMapFigure(
    {
      x: layout.x,
      y: layout.y,
      group: genres,
      size: Array.from(items, (i) => counts[i]!),
      hover: rows.map((r, p) => hoverOf(movies, r, counts[items[p]!]!)),
      ids: Array.from(rows, (r) => movies.movieIds[r]!),
    },
    {
      title: `Movie map — UMAP of ${options.model ?? 'model'} item factors${options.dataset ? `, ${options.dataset}` : ''}`,
      subtitle:
        `${rule}; colour: main genre (rarest of its genres), size: number of ratings; ` +
        `same-genre rate of 10 nearest map neighbours ${(100 * mapAgreement.rate).toFixed(1)}% vs ${(100 * mapAgreement.randomRate).toFixed(1)}% at random`,
    },
  );
  return { figure, items, layout, genres, rule, mapAgreement, factorAgreement };
}

export interface UserMapOptions {
  maxUsers?: number;
  dataset?: string;
  model?: string;
  umap?: UmapOptions;
}

/**
 * The user map: UMAP of user factors (the `maxUsers` most active users), coloured by each user's most
 * over-represented genre (their share of ratings in the genre divided by the genre's overall share), sized by
 * activity.
 */
export async function userEmbeddingMap(
  factors: Factors,
  ratings: Interactions,
  movies: MovieCatalogue,
  options: UserMapOptions = {},
): Promise<{ figure: PlotlyFigure; users: Int32Array; layout: UmapLayout; groups: string[]; rule: string }> {
  const k = factors.k;
  const activity = ratings.userCounts();
  const { items: users, minCount } = mostRatedItems(activity, options.maxUsers ?? 3000);
  const n = users.length;
  const rule =
    n < activity.length
      ? `the ${n} most active of ${activity.length} users (≥ ${minCount} ratings each)`
      : `all ${n} users`;
  const g = movies.genreNames.length;
  const overall = new Float64Array(g);
  const perUser = new Float64Array(ratings.nUsers * g);
  const csr = ratings.csr();
  for (let u = 0; u < ratings.nUsers; u++) {
    for (let p = csr.indptr[u]!; p < csr.indptr[u + 1]!; p++) {
      const row = movies.rowOfItem[csr.indices[p]!]!;
      for (let q = movies.genreIndptr[row]!; q < movies.genreIndptr[row + 1]!; q++) {
        perUser[u * g + movies.genreIndices[q]!]!++;
        overall[movies.genreIndices[q]!]!++;
      }
    }
  }
  const totalAll = ratings.size;
  const groups = Array.from(users, (u) => {
    let best = -1;
    let bestLift = 0;
    for (let j = 0; j < g; j++) {
      if (overall[j]! < 0.01 * totalAll) continue; // genres this rare make noisy favourites
      const lift = perUser[u * g + j]! / activity[u]! / (overall[j]! / totalAll);
      if (lift > bestLift) {
        bestLift = lift;
        best = j;
      }
    }
    return best < 0 ? '(none)' : movies.genreNames[best]!;
  });
  const data = new Float32Array(n * k);
  for (let p = 0; p < n; p++) data.set(factors.users.subarray(users[p]! * k, (users[p]! + 1) * k), p * k);
  const layout = await umapLayout(data, n, k, { label: 'UMAP users', ...options.umap });
  const figure = embeddingMapFigure(
    {
      x: layout.x,
      y: layout.y,
      group: groups,
      size: Array.from(users, (u) => activity[u]!),
      hover: Array.from(
        users,
        (u, p) => `user ${ratings.userIds.id(u)}<br>${activity[u]} ratings<br>favours ${groups[p]}`,
      ),
      ids: Array.from(users, (u) => ratings.userIds.id(u)),
    },
    {
      title: `User map — UMAP of ${options.model ?? 'model'} user factors${options.dataset ? `, ${options.dataset}` : ''}`,
      subtitle: `${rule}; colour: the genre the user rates most relative to everyone, size: number of ratings`,
      legendTitle: 'favoured genre',
    },
  );
  return { figure, users, layout, groups, rule };
}

/** A movie in a neighbour, recommendation or explanation list. */
export interface MovieListRow {
  rank: number;
  movieId: number;
  title: string;
  genres: string;
  /** Number of ratings of the movie in the data. */
  ratings: number;
}

/** A movie with its cosine similarity (in factor space) to the movie asked about. */
export interface NeighbourRow extends MovieListRow {
  similarity: number;
}

/** The movie's item index, or a ConfigError naming the id (unknown or never rated). */
export function itemOfMovie(ratings: Interactions, movieId: number): number {
  const item = ratings.itemIds.index(movieId);
  if (item < 0) throw new ConfigError('movieId', `movie ${movieId} has no ratings in this dataset`);
  return item;
}

export interface SimilarMoviesOptions {
  /** How many neighbours (default 10). */
  count?: number;
  /** Only movies with at least this many ratings (default 1); rarely rated movies have noisy factors. */
  minRatings?: number;
}

/**
 * The movies whose item factors are closest (cosine) to the movie's, with title, genres and popularity — the
 * factor-cosine neighbours of lib/models/item-similarity that factor models' `similarItems` use.
 */
export function similarMovies(
  factors: Factors,
  ratings: Interactions,
  movies: MovieCatalogue,
  movieId: number,
  options: SimilarMoviesOptions = {},
): NeighbourRow[] {
  const item = itemOfMovie(ratings, movieId);
  const counts = ratings.itemCounts();
  const top = factorNeighbours(factors.items, factors.k, item, options.count ?? 10, {
    support: counts,
    minSupport: options.minRatings ?? 1,
  });
  return Array.from(top.items, (i, rank) => ({
    ...movieRow(movies, ratings, counts, i, rank + 1),
    similarity: top.scores[rank]!,
  }));
}

function movieRow(
  movies: MovieCatalogue,
  ratings: Interactions,
  counts: Int32Array,
  item: number,
  rank: number,
): MovieListRow {
  const row = movies.rowOfItem[item]!;
  return {
    rank,
    movieId: ratings.itemIds.id(item),
    title: movies.titles[row]!,
    genres: genresOf(movies, row).join('|'),
    ratings: counts[item]!,
  };
}

export interface Recommendation extends MovieListRow {
  /** The model's score (not a rating for ranking models). */
  score: number;
}

/** Top-`count` recommendations for a user (MovieLens id), seen movies left out, as table rows. */
export function recommendMovies(
  model: Recommender,
  ratings: Interactions,
  movies: MovieCatalogue,
  userId: number,
  count = 10,
): Recommendation[] {
  const user = ratings.userIds.index(userId);
  if (user < 0) throw new ConfigError('userId', `user ${userId} has no ratings in this dataset`);
  const top = model.recommend(user, count);
  const counts = ratings.itemCounts();
  return Array.from(top.items, (i, r) => ({
    ...movieRow(movies, ratings, counts, i, r + 1),
    score: top.scores[r]!,
  }));
}

export interface Explanation {
  userId: number;
  movieId: number;
  title: string;
  /** The user's rated movies most similar to the recommended one, most similar first, with their rating. */
  because: Array<NeighbourRow & { rating: number }>;
}

/**
 * "Why was this recommended": the user's own rated movies whose item factors are closest (cosine) to the
 * recommended movie's — the evidence a factor model generalises from. The same selection as a model's `explain`
 * (lib/models/item-similarity `mostSimilarAmong`), on the given factors.
 */
export function explainRecommendation(
  factors: Factors,
  ratings: Interactions,
  movies: MovieCatalogue,
  userId: number,
  movieId: number,
  count = 5,
): Explanation {
  const user = ratings.userIds.index(userId);
  if (user < 0) throw new ConfigError('userId', `user ${userId} has no ratings in this dataset`);
  const item = itemOfMovie(ratings, movieId);
  const { indptr, indices, values } = ratings.csr();
  const rated = indices.subarray(indptr[user]!, indptr[user + 1]!);
  const ratingOf = new Map<number, number>();
  for (let p = indptr[user]!; p < indptr[user + 1]!; p++) ratingOf.set(indices[p]!, values[p]!);
  const top = mostSimilarAmong(rated, item, count, (a, b) => factorCosine(factors.items, factors.k, a, b));
  const counts = ratings.itemCounts();
  const row = rowOfMovie(movies, movieId);
  return {
    userId,
    movieId,
    title: row >= 0 ? movies.titles[row]! : String(movieId),
    because: Array.from(top.items, (i, r) => ({
      ...movieRow(movies, ratings, counts, i, r + 1),
      similarity: top.scores[r]!,
      rating: ratingOf.get(i)!,
    })),
  };
}

/** Heatmap of the cosine similarities (item factors) among the given movies, labelled with their titles. */
export function movieSimilarityHeatmap(
  factors: Factors,
  ratings: Interactions,
  movies: MovieCatalogue,
  movieIds: number[],
  title = 'Cosine similarity of item factors',
): PlotlyFigure {
  const items = movieIds.map((id) => itemOfMovie(ratings, id));
  const labels = items.map((i) => {
    const t = movies.titles[movies.rowOfItem[i]!]!;
    return t.length > 40 ? `${t.slice(0, 39)}…` : t;
  });
  return similarityHeatmapFigure(cosineSimilarityMatrix(factors.items, factors.k, items), labels, { title });
}
