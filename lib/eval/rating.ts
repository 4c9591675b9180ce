import type { Interactions } from '../data/interactions';
import type { Recommender } from '../models/recommender';
import { mae, rmse } from './metrics';

/** Rating-prediction protocol: predict every test rating and compare. */
export function evaluateRatings(
  model: Recommender,
  test: Interactions,
): { rmse: number; mae: number; n: number } {
  const predicted = model.predict(test.users, test.items);
  return { rmse: rmse(test.ratings, predicted), mae: mae(test.ratings, predicted), n: test.size };
}
