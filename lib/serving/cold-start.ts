import type { BaselineModel } from '../models/baseline';
import { checkFoldInProfile, type FoldedUser, type FoldInOptions } from '../models/fold-in';
import type { Recommender } from '../models/recommender';

export {
  DEFAULT_FOLD_IN_BIAS_REG,
  DEFAULT_FOLD_IN_REG,
  foldInExplicit,
  foldInImplicit,
} from '../models/fold-in';

/** A new user's scores for every item, after folding their ratings into a fitted model (the model's `foldIn`). */
export type ScoresForUser = FoldedUser;

/** Overrides of the models' own fold-in weights (see FoldInOptions). */
export type ColdStartOptions = FoldInOptions;

/** Optional method a model may implement to fold in a user its own way, ahead of its `foldIn`. */
export interface FoldsInUsers {
  foldInUser(items: Int32Array, ratings: Float32Array): ScoresForUser;
}

export function canFoldIn(model: Recommender): model is Recommender & FoldsInUsers {
  return typeof (model as Partial<FoldsInUsers>).foldInUser === 'function';
}

/**
 * Scores for a user who is not in the training data, from a handful of (item index, rating) pairs: the model's
 * own `foldInUser` when it has one, else its `foldIn` capability (see BaseRecommender.foldIn: the baseline's user
 * bias step, explicit or implicit least squares against a factor model's item factors); null when the model has
 * neither (the caller falls back to item-neighbour scoring).
 */
export function foldInUser(
  model: Recommender,
  items: Int32Array,
  ratings: Float32Array,
  options: ColdStartOptions = {},
): ScoresForUser | null {
  if (canFoldIn(model)) {
    checkFoldInProfile(items, ratings);
    return model.foldInUser(items, ratings);
  }
  return model.foldIn({ items, ratings }, options);
}

/** Baseline fold-in: the closed-form user-bias step of the baseline's ALS with its regUser. */
export function foldInBaseline(
  model: BaselineModel,
  items: Int32Array,
  ratings: Float32Array,
): ScoresForUser {
  return model.foldIn({ items, ratings })!;
}
