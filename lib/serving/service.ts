import { type TopK, topK } from '../compute/topk';
import { registrySourceOf } from '../tracking/registry';
import { ConfigError, ReelabError } from '../util/errors';
import { type LoadedModel, loadServingModel, type ServingLoadOptions } from './artifact';
import { type ColdStartOptions, foldInUser } from './cold-start';
import { itemCounts } from './model-view';
import type { MovieInfo } from './movies';
import { type ItemSimilarity, itemSimilarity } from './similarity';

/** Something asked for does not exist (unknown user or movie); the HTTP layer answers 404. */
export class NotFoundError extends ReelabError {
  override readonly name = 'NotFoundError';
}

export interface BecauseItem {
  movieId: number;
  title: string;
  similarity: number;
}

export interface RecommendedItem extends MovieInfo {
  score: number;
  /** Rated (liked) movies most similar to this one, when explanations were asked for. */
  because?: BecauseItem[];
}

export interface UserRecommendations {
  user: number;
  model: string;
  items: RecommendedItem[];
}

export interface RatingInput {
  movieId: number;
  rating: number;
}

export interface ColdStartRecommendations {
  model: string;
  /** How the new user was folded in (see cold-start.ts), or 'item-neighbours' for the similarity fallback. */
  method: string;
  /** Ratings used (of movies the model knows). */
  used: number;
  /** Rated movieIds the model does not know (left out). */
  unknownMovies: number[];
  items: RecommendedItem[];
}

export interface SimilarMovies {
  movie: MovieInfo;
  source: ItemSimilarity['source'];
  items: Array<MovieInfo & { similarity: number }>;
}

export interface Prediction {
  user: number;
  movie: MovieInfo;
  /** A rating for rating models; an unscaled ranking score for ranking models (see `kind`). */
  prediction: number;
  kind: 'rating' | 'score';
  /** True when the user rated this movie in the training data. */
  seen: boolean;
}

export interface ServiceOptions {
  /** Largest list length a caller may ask for (default 100). */
  maxK?: number;
  coldStart?: ColdStartOptions;
}

/**
 * Recommendations from one loaded model, in MovieLens ids: for known users, for new users from a few ratings
 * (cold start), similar movies, predicted ratings and title search. Input errors are ConfigError (→ 400) and
 * unknown ids NotFoundError (→ 404).
 */
export class RecommendationService {
  readonly maxK: number;
  readonly similarity: ItemSimilarity;
  private readonly popularity: Int32Array;
  private readonly scratch: Float32Array;
  private readonly mark: Int32Array;
  private stamp = 0;

  constructor(
    readonly loaded: LoadedModel,
    readonly options: ServiceOptions = {},
  ) {
    this.maxK = options.maxK ?? 100;
    this.similarity = itemSimilarity(loaded.model);
    this.popularity = itemCounts(loaded.view);
    this.scratch = new Float32Array(loaded.view.items.size);
    this.mark = new Int32Array(loaded.view.items.size);
  }

  static async open(
    ref: string,
    options: ServiceOptions & ServingLoadOptions = {},
  ): Promise<RecommendationService> {
    return new RecommendationService(await loadServingModel(ref, options), options);
  }

  get summary(): {
    model: string;
    params: Readonly<Record<string, number | string | boolean>>;
    dataset: string;
    task: 'rating' | 'ranking';
    users: number;
    movies: number;
    runId: string | null;
    trainedAt: string;
    metrics: Record<string, number>;
    similarity: string;
    ratingScale: [number, number];
    /** Where the model came from when it was loaded from the MLflow Model Registry (else null). */
    registry: { name: string; version: string; alias: string | null; runId: string | null } | null;
  } {
    const { model, meta, view } = this.loaded;
    const source = registrySourceOf(this.loaded.dir);
    return {
      model: model.name,
      params: model.params,
      dataset: meta.dataset,
      task: meta.task,
      users: view.users.size,
      movies: view.items.size,
      runId: meta.runId,
      trainedAt: meta.trainedAt,
      metrics: meta.metrics,
      similarity: this.similarity.source,
      ratingScale: [meta.ratingMin, meta.ratingMax],
      registry: source
        ? { name: source.name, version: source.version, alias: source.alias, runId: source.runId }
        : null,
    };
  }

  checkK(k: number): void {
    if (!(Number.isInteger(k) && k >= 1 && k <= this.maxK))
      throw new ConfigError('k', `must be an integer from 1 to ${this.maxK}, got ${k}`);
  }

  userIndex(userId: number): number {
    const u = Number.isInteger(userId) ? this.loaded.view.users.index(userId) : -1;
    if (u < 0)
      throw new NotFoundError(
        `user ${userId} is not in the model's training data (new users: POST /recommendations with their ratings)`,
      );
    return u;
  }

  itemIndex(movieId: number): number {
    const i = Number.isInteger(movieId) ? this.loaded.view.items.index(movieId) : -1;
    if (i < 0) throw new NotFoundError(`movie ${movieId} is not in the model's training data`);
    return i;
  }

  movie(movieId: number): MovieInfo {
    return this.loaded.movies.info(this.itemIndex(movieId));
  }

  /** Top-k unseen movies of a known user; with `explain`, the user's training movies most like each one. */
  recommendForUser(userId: number, k: number, explain = false): UserRecommendations {
    this.checkK(k);
    const u = this.userIndex(userId);
    const top = this.loaded.model.recommend(u, k);
    return { user: userId, model: this.loaded.model.name, items: this.items(top, explain ? u : null) };
  }

  /**
   * Top-k for a new user from their ratings (movies the model does not know are reported and left out); with
   * `explain`, each item lists the liked (above the user's mean rating) movies most similar to it.
   */
  recommendForRatings(ratings: readonly RatingInput[], k: number, explain = true): ColdStartRecommendations {
    this.checkK(k);
    const { meta, view } = this.loaded;
    const items: number[] = [];
    const values: number[] = [];
    const unknownMovies: number[] = [];
    const seen = new Set<number>();
    ratings.forEach((r, p) => {
      const where = `ratings[${p}]`;
      if (!Number.isInteger(r.movieId))
        throw new ConfigError(`${where}.movieId`, `must be an integer, got ${r.movieId}`);
      if (!(Number.isFinite(r.rating) && r.rating >= meta.ratingMin && r.rating <= meta.ratingMax))
        throw new ConfigError(
          `${where}.rating`,
          `must be a number from ${meta.ratingMin} to ${meta.ratingMax} (the training scale), got ${r.rating}`,
        );
      if (seen.has(r.movieId)) throw new ConfigError(`${where}.movieId`, `movie ${r.movieId} is rated twice`);
      seen.add(r.movieId);
      const i = view.items.index(r.movieId);
      if (i < 0) unknownMovies.push(r.movieId);
      else {
        items.push(i);
        values.push(r.rating);
      }
    });
    if (items.length === 0)
      throw new ConfigError(
        'ratings',
        ratings.length === 0
          ? 'at least one rating is needed'
          : `none of the rated movies (${unknownMovies.join(', ')}) is known to the model`,
      );
    const itemArr = Int32Array.from(items);
    const ratingArr = Float32Array.from(values);
    const scores = this.scratch;
    const folded = foldInUser(this.loaded.model, itemArr, ratingArr, this.options.coldStart);
    let method: string;
    if (folded) {
      folded.scoreAll(scores);
      method = folded.method;
    } else {
      this.neighbourScores(itemArr, ratingArr, scores);
      method = 'item-neighbours';
    }
    const stamp = ++this.stamp;
    for (const i of items) this.mark[i] = stamp;
    const top = topK(scores, k, this.mark, stamp);
    const weights = centred(ratingArr);
    const liked = explain ? itemArr.filter((_, p) => weights[p]! > 0) : null;
    return {
      model: this.loaded.model.name,
      method,
      used: items.length,
      unknownMovies,
      items: this.items(top, liked),
    };
  }

  /**
   * Fallback scores for models that cannot fold in a user: Σ_j w_j·sim(j, i) over the 200 nearest neighbours of
   * each rated item j, w_j = rating − the user's mean rating (1 when all ratings are equal); a popularity term
   * 1e-6 smaller than any similarity orders items no neighbour reaches.
   */
  private neighbourScores(items: Int32Array, ratings: Float32Array, out: Float32Array): void {
    let maxPop = 1;
    for (let i = 0; i < this.popularity.length; i++)
      if (this.popularity[i]! > maxPop) maxPop = this.popularity[i]!;
    for (let i = 0; i < out.length; i++) out[i] = (1e-6 * this.popularity[i]!) / maxPop;
    const w = centred(ratings);
    for (let p = 0; p < items.length; p++) {
      const nb = this.similarity.similar(items[p]!, Math.min(200, out.length));
      for (let q = 0; q < nb.items.length; q++) out[nb.items[q]!]! += w[p]! * nb.scores[q]!;
    }
  }

  /** `liked`: a training user's index or a new user's liked items (for "because"), null for no explanations. */
  private items(top: TopK, liked: number | Int32Array | null): RecommendedItem[] {
    const out: RecommendedItem[] = [];
    for (let r = 0; r < top.items.length; r++) {
      const i = top.items[r]!;
      const item: RecommendedItem = { ...this.loaded.movies.info(i), score: top.scores[r]! };
      if (liked !== null) item.because = this.because(i, liked);
      out.push(item);
    }
    return out;
  }

  /** Up to two liked movies most similar to `item` (the model's `explain`; positive similarity only). */
  private because(item: number, liked: number | Int32Array): BecauseItem[] {
    const why = this.loaded.model.explain(liked, item, 2);
    const best: BecauseItem[] = [];
    for (let r = 0; r < why.items.length; r++) {
      const j = why.items[r]!;
      if (!(why.scores[r]! > 0)) continue;
      best.push({
        movieId: this.loaded.movies.movieIds[j]!,
        title: this.loaded.movies.titles[j]!,
        similarity: why.scores[r]!,
      });
    }
    return best;
  }

  similar(movieId: number, k: number): SimilarMovies {
    this.checkK(k);
    const i = this.itemIndex(movieId);
    const top = this.similarity.similar(i, k);
    const items: Array<MovieInfo & { similarity: number }> = [];
    for (let r = 0; r < top.items.length; r++)
      items.push({ ...this.loaded.movies.info(top.items[r]!), similarity: top.scores[r]! });
    return { movie: this.loaded.movies.info(i), source: this.similarity.source, items };
  }

  predict(userId: number, movieId: number): Prediction {
    const u = this.userIndex(userId);
    const i = this.itemIndex(movieId);
    const value = this.loaded.model.predict(Int32Array.of(u), Int32Array.of(i))[0]!;
    const seen = this.loaded.model.seenItems(u).includes(i);
    return {
      user: userId,
      movie: this.loaded.movies.info(i),
      prediction: value,
      kind: this.loaded.meta.task === 'rating' ? 'rating' : 'score',
      seen,
    };
  }

  /** The `limit` most-rated movies whose genres are exactly `genres` (e.g. ['Horror']): quick demo profiles. */
  popularInGenre(genres: readonly string[], limit: number): Array<MovieInfo & { ratings: number }> {
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= this.maxK))
      throw new ConfigError('limit', `must be an integer from 1 to ${this.maxK}, got ${limit}`);
    const want = [...genres].sort().join('|');
    const out: number[] = [];
    for (let i = 0; i < this.popularity.length; i++) {
      if ([...this.loaded.movies.info(i).genres].sort().join('|') === want) out.push(i);
    }
    out.sort((a, b) => this.popularity[b]! - this.popularity[a]! || a - b);
    return out.slice(0, limit).map((i) => ({ ...this.loaded.movies.info(i), ratings: this.popularity[i]! }));
  }

  search(query: string, limit: number): Array<MovieInfo & { ratings: number }> {
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= this.maxK))
      throw new ConfigError('limit', `must be an integer from 1 to ${this.maxK}, got ${limit}`);
    return this.loaded.movies
      .search(query, limit)
      .map((i) => ({ ...this.loaded.movies.info(i), ratings: this.popularity[i]! }));
  }
}

/** Rating minus the mean rating; all ones when every rating is the same. */
function centred(ratings: Float32Array): Float32Array {
  let mean = 0;
  for (let p = 0; p < ratings.length; p++) mean += ratings[p]!;
  mean /= ratings.length;
  const w = new Float32Array(ratings.length);
  let any = false;
  for (let p = 0; p < ratings.length; p++) {
    w[p] = ratings[p]! - mean;
    if (w[p] !== 0) any = true;
  }
  if (!any) w.fill(1);
  return w;
}
