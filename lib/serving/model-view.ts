import type { IdMap } from '../data/id-map';
import type { Recommender } from '../models/recommender';

/**
 * What serving needs from any fitted model besides its scores: the id maps (MovieLens ids ↔ dense indices) and
 * each user's training items (to leave them out and to find neighbours) — the model's `ids` and `seenMatrix()`
 * capabilities, gathered once.
 */
export interface ModelView {
  users: IdMap;
  items: IdMap;
  /** Training items of user u: seenIndices[seenIndptr[u] .. seenIndptr[u+1]), ascending. */
  seenIndptr: Int32Array;
  seenIndices: Int32Array;
}

export function modelView(model: Recommender): ModelView {
  const { users, items } = model.ids;
  const seen = model.seenMatrix();
  return { users, items, seenIndptr: seen.indptr, seenIndices: seen.indices };
}

/** Number of training interactions per item (the columns' counts of the seen matrix). */
export function itemCounts(view: ModelView): Int32Array {
  const counts = new Int32Array(view.items.size);
  const idx = view.seenIndices;
  for (let p = 0; p < idx.length; p++) counts[idx[p]!]!++;
  return counts;
}
