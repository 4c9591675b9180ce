import type { FactorScorer } from '../compute/scorer';
import type { TopK } from '../compute/topk';
import type { MovieCatalogue } from '../data/catalogue';
import type { IdMap } from '../data/id-map';
import type { Interactions } from '../data/interactions';
import type { FoldedUser, FoldInOptions, FoldInProfile } from './fold-in';
import type { SimilarItems, SimilaritySource } from './item-similarity';

export type { FactorScorer } from '../compute/scorer';
export type { TopK } from '../compute/topk';
export type { FoldedUser, FoldInOptions, FoldInProfile } from './fold-in';
export type { SimilarItems, SimilaritySource } from './item-similarity';

/** What a model reports after each training epoch (feeds progress bars and MLflow step metrics). */
export interface EpochReport {
  epoch: number;
  epochs: number;
  seconds: number;
  loss?: number;
  trainRmse?: number;
  validationRmse?: number;
  /** Any other per-epoch numbers, by metric name. */
  metrics?: Record<string, number>;
}

export interface FitOptions {
  signal?: AbortSignal;
  onEpoch?: (report: EpochReport) => void;
  /** Held-out ratings for per-epoch validation RMSE, where the model supports it. */
  validation?: Interactions;
  /** Worker threads for models that train in parallel (default: 1). */
  threads?: number;
  /**
   * The dataset's movie catalogue (genres, years, tags, genome, links; lib/data/catalogue): the only way side
   * information reaches a model. Models that need it (registry `needs: ['catalogue']`) throw a ConfigError
   * without it; the others ignore it.
   */
  catalogue?: MovieCatalogue;
}

export interface RecommendOptions {
  /** 'seen' (default) leaves out the user's training items; an array lists item indices to leave out. */
  exclude?: 'seen' | 'none' | Int32Array;
}

/** Numbers, strings and typed arrays that make up a trained model; saved to and restored from a directory. */
export type ModelStateValue =
  | number
  | string
  | boolean
  | null
  | Float32Array
  | Float64Array
  | Int32Array
  | number[]
  | string[];
export type ModelState = Record<string, ModelStateValue>;

/** The one interface every model implements. Users and items are dense internal indices. */
export interface Recommender {
  /** Registry name, e.g. "baseline". */
  readonly name: string;
  /** Hyperparameters after defaults were applied. */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly fitted: boolean;
  fit(train: Interactions, options?: FitOptions): Promise<void>;
  /** Predicted scores (ratings for rating models) of (users[i], items[i]) pairs. */
  predict(users: Int32Array, items: Int32Array): Float32Array;
  /** Scores of every item for one user, written into `out` (length = number of items). */
  scoreAll(user: number, out: Float32Array): void;
  recommend(user: number, k: number, options?: RecommendOptions): TopK;
  /** Factor form of the scores, when the model has one (enables parallel full ranking); else null. */
  batchScorer?(): FactorScorer | null;
  /** Everything needed to rebuild the fitted model (see `saveModel` / `loadModel`). */
  state(): ModelState;
  restore(state: ModelState): void;

  // ---- capabilities (implemented once in BaseRecommender; serving, viz and the CLI use only these) ----

  /** The id maps of the training data: external (MovieLens) ids ↔ the dense indices every method takes. */
  readonly ids: { users: IdMap; items: IdMap };
  /** The user's training items, ascending (a read-only view). */
  seenItems(user: number): Int32Array;
  /** Every user's training items as users × items CSR (read-only views): seenItems(u) = indices[indptr[u]..indptr[u+1]). */
  seenMatrix(): { indptr: Int32Array; indices: Int32Array };
  /** What `similarItems` measures: the model's own neighbours, cosine of its item factors, or co-ratings. */
  readonly similaritySource: SimilaritySource;
  /** The `count` items most similar to `item` by the model's own notion of similarity, the item left out. */
  similarItems(item: number, count: number): TopK;
  /** Similarity of two items (factor cosine for factor models, else co-rating cosine); what `explain` ranks by. */
  itemSimilarity(a: number, b: number): number;
  /**
   * "Because you liked": the `count` items the user rated (a training user's index, or a new user's rated
   * items) most similar to `item` by `itemSimilarity`, most similar first, `item` itself left out.
   */
  explain(user: number | Int32Array, item: number, count: number): SimilarItems;
  /**
   * A new user from their ratings (implicit's `recalculate_user`): their vector and scores, solved with the
   * model's own hyperparameters; null when the model has no way to fold a user in.
   */
  foldIn(profile: FoldInProfile, options?: FoldInOptions): FoldedUser | null;
}
