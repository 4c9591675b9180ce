import type { TopK } from '../compute/topk';
import type { Interactions } from '../data/interactions';

export type { TopK } from '../compute/topk';

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

/**
 * A portable description of how a model scores items, made of plain typed arrays so that evaluation and
 * batch recommendation can score blocks of users in worker threads (SharedArrayBuffer-backed where possible):
 * score(u, i) = globalBias + userBias[u] + itemBias[i] + userFactors[u]·itemFactors[i].
 */
export interface FactorScorer {
  kind: 'factors';
  factors: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias?: Float32Array | null;
  itemBias?: Float32Array | null;
  globalBias?: number;
}

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
}
