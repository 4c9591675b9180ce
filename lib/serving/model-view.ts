import { IdMap } from '../data/id-map';
import type { Recommender } from '../models/recommender';
import { ReelabError } from '../util/errors';

/**
 * What serving needs from any fitted model besides its scores: the id maps (MovieLens ids ↔ dense indices) and
 * each user's training items (to leave them out and to find neighbours). Every model keeps these in its state
 * under the `ids.*` / `seen.*` keys (see BaseRecommender), so one view works for all registered models.
 */
export interface ModelView {
  users: IdMap;
  items: IdMap;
  /** Training items of user u: seenIndices[seenIndptr[u] .. seenIndptr[u+1]), ascending. */
  seenIndptr: Int32Array;
  seenIndices: Int32Array;
}

export function modelView(model: Recommender): ModelView {
  const state = model.state();
  const get = (key: string): Int32Array => {
    const v = state[key];
    if (!(v instanceof Int32Array))
      throw new ReelabError(`${model.name}: model state has no "${key}" array; it cannot be served`);
    return v;
  };
  const users = IdMap.fromSorted(get('ids.users'));
  const items = IdMap.fromSorted(get('ids.items'));
  const seenIndptr = get('seen.indptr');
  const seenIndices = get('seen.indices');
  if (seenIndptr.length !== users.size + 1)
    throw new ReelabError(
      `${model.name}: seen.indptr has ${seenIndptr.length} entries for ${users.size} users`,
    );
  return { users, items, seenIndptr, seenIndices };
}

/** Number of training interactions per item (the columns' counts of the seen matrix). */
export function itemCounts(view: ModelView): Int32Array {
  const counts = new Int32Array(view.items.size);
  const idx = view.seenIndices;
  for (let p = 0; p < idx.length; p++) counts[idx[p]!]!++;
  return counts;
}
