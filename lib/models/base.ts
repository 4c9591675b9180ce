import { topK } from '../compute/topk';
import { IdMap } from '../data/id-map';
import type { Interactions } from '../data/interactions';
import { rmse } from '../eval/metrics';
import { ReelabError } from '../util/errors';
import {
  checkFoldInProfile,
  DEFAULT_FOLD_IN_BIAS_REG,
  DEFAULT_FOLD_IN_REG,
  type FoldedUser,
  type FoldInOptions,
  type FoldInProfile,
  foldInExplicit,
  foldInImplicit,
} from './fold-in';
import {
  CoRatingIndex,
  checkItemQuery,
  DEFAULT_MIN_SUPPORT,
  factorCosine,
  factorNeighbours,
  mostSimilarAmong,
  type SimilarItems,
  type SimilaritySource,
} from './item-similarity';
import type {
  FactorScorer,
  FitOptions,
  ModelState,
  Recommender,
  RecommendOptions,
  TopK,
} from './recommender';

export type Params = Record<string, number | string | boolean>;

/**
 * Shared plumbing for models: parameters, the id maps and seen items of the training data (for
 * `recommend` after a reload), top-k with exclusion, and state save/restore of those parts.
 */
export abstract class BaseRecommender<P extends Params> implements Recommender {
  abstract readonly name: string;
  fitted = false;
  protected userIds: IdMap | null = null;
  protected itemIds: IdMap | null = null;
  private seenIndptr: Int32Array | null = null;
  private seenIndices: Int32Array | null = null;
  private excludeMark: Int32Array | null = null;
  private excludeStamp = 0;
  /** Lazily built from the fitted model (reset by fit / restore): item factors, co-rating index, item counts. */
  private similarityCache: {
    factors?: { itemFactors: Float32Array; k: number } | null;
    coRating?: CoRatingIndex;
    support?: Int32Array;
  } = {};

  constructor(readonly params: Readonly<P>) {}

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    if (train.size === 0) throw new ReelabError(`${this.name}: cannot fit on an empty training set`);
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    const csr = train.csr();
    this.seenIndptr = csr.indptr;
    this.seenIndices = csr.indices;
    this.excludeMark = null;
    this.similarityCache = {};
    await this.train(train, options);
    this.fitted = true;
  }

  protected abstract train(train: Interactions, options: FitOptions): Promise<void>;

  abstract scoreAll(user: number, out: Float32Array): void;

  predict(users: Int32Array, items: Int32Array): Float32Array {
    this.assertFitted();
    return this.predictPairs(users, items);
  }

  private predictPairs(users: Int32Array, items: Int32Array): Float32Array {
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) out[k] = this.predictOne(users[k]!, items[k]!);
    return out;
  }

  /** RMSE of the current predictions on `data` (per-epoch train / held-out RMSE, also mid-fit). */
  protected rmseOn(data: Interactions): number {
    return rmse(data.ratings, this.predictPairs(data.users, data.items));
  }

  /** Score of one pair; indices outside the training maps (cold users/items) must be handled. */
  protected abstract predictOne(user: number, item: number): number;

  recommend(user: number, k: number, options: RecommendOptions = {}): TopK {
    this.assertFitted();
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
    if (!(user >= 0 && user < this.nUsers))
      throw new RangeError(`user index ${user} is outside 0..${this.nUsers - 1}`);
    const scores = new Float32Array(this.nItems);
    this.scoreAll(user, scores);
    const exclude = options.exclude ?? 'seen';
    if (exclude === 'none') return topK(scores, k);
    this.excludeMark ??= new Int32Array(this.nItems);
    const stamp = ++this.excludeStamp;
    if (exclude === 'seen') {
      for (let p = this.seenIndptr![user]!; p < this.seenIndptr![user + 1]!; p++)
        this.excludeMark[this.seenIndices![p]!] = stamp;
    } else {
      for (let p = 0; p < exclude.length; p++) this.excludeMark[exclude[p]!] = stamp;
    }
    return topK(scores, k, this.excludeMark, stamp);
  }

  /** Items the user interacted with in training (ascending indices). */
  seenItems(user: number): Int32Array {
    this.assertFitted();
    return this.seenIndices!.subarray(this.seenIndptr![user]!, this.seenIndptr![user + 1]!);
  }

  /** Every user's training items as users × items CSR (read-only views). */
  seenMatrix(): { indptr: Int32Array; indices: Int32Array } {
    this.assertFitted();
    return { indptr: this.seenIndptr!, indices: this.seenIndices! };
  }

  /** The id maps of the training data (MovieLens ids ↔ dense indices). */
  get ids(): { users: IdMap; items: IdMap } {
    this.assertFitted();
    return { users: this.userIds!, items: this.itemIds! };
  }

  // ---- item similarity: similarItems, itemSimilarity, explain ----

  /**
   * What `similarItems` measures: 'model' when the model defines its own `similarItems` (neighbour lists,
   * profile cosine, factor cosine over every item), else 'factors' (cosine of the item factors of its
   * `batchScorer`, among items with at least DEFAULT_MIN_SUPPORT training interactions), else 'co-rating'.
   */
  get similaritySource(): SimilaritySource {
    if (this.similarItems !== BaseRecommender.prototype.similarItems) return 'model';
    return this.itemFactorsForSimilarity() ? 'factors' : 'co-rating';
  }

  /**
   * The `count` items most similar to `item`, the item itself left out: cosine of the item factors for factor
   * models (items with fewer than DEFAULT_MIN_SUPPORT training interactions are not offered: their factors are
   * mostly initialisation noise), damped co-rating cosine otherwise. Models with their own notion override it.
   */
  similarItems(item: number, count: number): TopK {
    this.assertFitted();
    checkItemQuery(item, count, this.nItems);
    const f = this.itemFactorsForSimilarity();
    if (f)
      return factorNeighbours(f.itemFactors, f.k, item, count, {
        support: this.trainingSupport(),
        minSupport: DEFAULT_MIN_SUPPORT,
      });
    return this.coRatingIndex().similar(item, count);
  }

  /** Similarity of two items: cosine of their factors for factor models, else damped co-rating cosine. */
  itemSimilarity(a: number, b: number): number {
    this.assertFitted();
    checkItemQuery(a, 1, this.nItems);
    checkItemQuery(b, 1, this.nItems);
    const f = this.itemFactorsForSimilarity();
    return f ? factorCosine(f.itemFactors, f.k, a, b) : this.coRatingIndex().pair(a, b);
  }

  /**
   * "Because you liked": the `count` items the user rated most similar to `item` by `itemSimilarity` (most similar
   * first, ties to the lower index, `item` left out). `user` is a training user's index or a new user's items.
   */
  explain(user: number | Int32Array, item: number, count: number): SimilarItems {
    this.assertFitted();
    checkItemQuery(item, 1, this.nItems);
    let rated: Int32Array;
    if (typeof user === 'number') {
      if (!(Number.isInteger(user) && user >= 0 && user < this.nUsers))
        throw new RangeError(`user index ${user} is outside 0..${this.nUsers - 1}`);
      rated = this.seenItems(user);
    } else rated = user;
    return mostSimilarAmong(rated, item, count, (a, b) => this.itemSimilarity(a, b));
  }

  /** The item side of the factor form, cached (null without one). */
  private itemFactorsForSimilarity(): { itemFactors: Float32Array; k: number } | null {
    if (this.similarityCache.factors === undefined) {
      const scorer = (this as Recommender).batchScorer?.() ?? null;
      this.similarityCache.factors = scorer ? { itemFactors: scorer.itemFactors, k: scorer.factors } : null;
    }
    return this.similarityCache.factors;
  }

  /** Training interactions per item. */
  private trainingSupport(): Int32Array {
    if (!this.similarityCache.support) {
      const counts = new Int32Array(this.nItems);
      const idx = this.seenIndices!;
      for (let p = 0; p < idx.length; p++) counts[idx[p]!]!++;
      this.similarityCache.support = counts;
    }
    return this.similarityCache.support;
  }

  private coRatingIndex(): CoRatingIndex {
    this.similarityCache.coRating ??= new CoRatingIndex(this.seenIndptr!, this.seenIndices!, this.nItems);
    return this.similarityCache.coRating;
  }

  // ---- fold-in ----

  /**
   * A user who is not in the training data, from a handful of (item index, rating) pairs (a ConfigError for a bad
   * profile): by default the user's vector solved by regularised least squares against the fixed item factors of
   * `batchScorer()` — explicit (with a user bias, DEFAULT_FOLD_IN_REG / DEFAULT_FOLD_IN_BIAS_REG) for rating
   * models, implicit (Hu et al.'s objective over all items, rated items with confidence 1 + α, the model's own
   * weights from `implicitFoldInWeights`) for ranking models; null for models with no factor form.
   */
  foldIn(profile: FoldInProfile, options: FoldInOptions = {}): FoldedUser | null {
    this.assertFitted();
    checkFoldInProfile(profile.items, profile.ratings, this.nItems);
    return this.foldInProfile(profile.items, profile.ratings, options);
  }

  /** The fold-in of a checked profile; models with their own way override it. */
  protected foldInProfile(
    items: Int32Array,
    ratings: Float32Array,
    options: FoldInOptions,
  ): FoldedUser | null {
    const scorer = (this as Recommender).batchScorer?.() ?? null;
    if (!scorer) return null;
    if (this.foldInObjective(scorer) === 'explicit')
      return foldInExplicit(scorer, items, ratings, {
        reg: options.reg ?? DEFAULT_FOLD_IN_REG,
        regBias: options.regBias ?? DEFAULT_FOLD_IN_BIAS_REG,
      });
    const own = this.implicitFoldInWeights();
    return foldInImplicit(scorer, items, { reg: options.reg ?? own.reg, alpha: options.alpha ?? own.alpha });
  }

  /** Rating models (a global bias in the factor form) fold in explicitly, ranking models implicitly. */
  protected foldInObjective(scorer: FactorScorer): 'explicit' | 'implicit' {
    return scorer.globalBias !== undefined ? 'explicit' : 'implicit';
  }

  /** The implicit fold-in's L2 weight and confidence scale: the model's own where it has them (0.01 and 1 here). */
  protected implicitFoldInWeights(): { reg: number; alpha: number } {
    return { reg: 0.01, alpha: 1 };
  }

  protected assertFitted(): void {
    if (!this.fitted) throw new ReelabError(`${this.name}: call fit() (or load a saved model) first`);
  }

  state(): ModelState {
    this.assertFitted();
    return {
      'ids.users': this.userIds!.ids,
      'ids.items': this.itemIds!.ids,
      'seen.indptr': this.seenIndptr!,
      'seen.indices': this.seenIndices!,
      ...this.modelState(),
    };
  }

  restore(state: ModelState): void {
    this.userIds = IdMap.fromSorted(expectInt32(state, 'ids.users'));
    this.itemIds = IdMap.fromSorted(expectInt32(state, 'ids.items'));
    this.seenIndptr = expectInt32(state, 'seen.indptr');
    this.seenIndices = expectInt32(state, 'seen.indices');
    this.excludeMark = null;
    this.similarityCache = {};
    this.restoreModel(state);
    this.fitted = true;
  }

  protected abstract modelState(): ModelState;
  protected abstract restoreModel(state: ModelState): void;
}

export function expectInt32(state: ModelState, key: string): Int32Array {
  const v = state[key];
  if (!(v instanceof Int32Array))
    throw new ReelabError(`saved model: "${key}" is missing or not an Int32Array`);
  return v;
}

export function expectFloat32(state: ModelState, key: string): Float32Array {
  const v = state[key];
  if (!(v instanceof Float32Array))
    throw new ReelabError(`saved model: "${key}" is missing or not a Float32Array`);
  return v;
}

export function expectNumber(state: ModelState, key: string): number {
  const v = state[key];
  if (typeof v !== 'number') throw new ReelabError(`saved model: "${key}" is missing or not a number`);
  return v;
}
