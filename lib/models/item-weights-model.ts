import { emptyWeights, scoreOneWithWeights, scoreWithWeights } from '../compute/item-weights';
import type { SparseMatrix } from '../compute/sparse';
import { type TopK, topK } from '../compute/topk';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32 } from './base';
import { checkItemQuery } from './item-similarity';
import type { ModelState } from './recommender';

/**
 * What item-item weight models (RP3β, SLIM) share once W is learned: score(u, ·) = x_u · W with x_u the user's
 * training interactions (values aligned with the seen arrays), W's rows as similar items, W as the saved state.
 * Each model's own file learns W and calls `setWeights`.
 */
export abstract class ItemWeightsModel<
  P extends Record<string, number | string | boolean>,
> extends BaseRecommender<P> {
  private w: SparseMatrix = emptyWeights();
  /** The user's x values for the seen entries (e.g. 1 for edges, 0 below a threshold), aligned with them. */
  private xValues = new Float32Array(0);
  private acc = new Float64Array(0);

  /** The item-item weights W (row i: the items i leads to). */
  get weights(): SparseMatrix {
    return this.w;
  }

  protected setWeights(w: SparseMatrix, xValues: Float32Array, nItems: number): void {
    this.w = w;
    this.xValues = xValues;
    this.acc = new Float64Array(nItems);
  }

  protected predictOne(user: number, item: number): number {
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems)) return 0;
    return scoreOneWithWeights(this.w, this.seenItems(user), this.userValues(user), item);
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    if (this.acc.length !== this.nItems) this.acc = new Float64Array(this.nItems);
    scoreWithWeights(this.w, this.seenItems(user), this.userValues(user), this.acc, out);
  }

  private userValues(user: number): Float32Array {
    const { indptr } = this.seenMatrix();
    return this.xValues.subarray(indptr[user]!, indptr[user + 1]!);
  }

  /** The items `item` leads to most strongly (its row of W), best first. */
  override similarItems(item: number, count: number): TopK {
    this.assertFitted();
    checkItemQuery(item, count, this.nItems);
    return rowNeighbours(this.w, item, count);
  }

  protected modelState(): ModelState {
    return {
      'w.indptr': this.w.indptr,
      'w.indices': this.w.indices,
      'w.values': this.w.values,
      xValues: this.xValues,
    };
  }

  protected restoreModel(state: ModelState): void {
    this.setWeights(
      restoreWeights(state, this.nItems, this.name),
      expectFloat32(state, 'xValues'),
      this.nItems,
    );
  }
}

/** The `count` best entries of row `item` of W (ties to the lower item index), the item itself left out. */
export function rowNeighbours(w: SparseMatrix, item: number, count: number): TopK {
  const from = w.indptr[item]!;
  const to = w.indptr[item + 1]!;
  const ids = w.indices.subarray(from, to);
  const order = Int32Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  const sorted = Float32Array.from(order, (o) =>
    ids[o] === item ? Number.NEGATIVE_INFINITY : w.values[from + o]!,
  );
  const best = topK(sorted, count);
  return { items: Int32Array.from(best.items, (o) => ids[order[o]!]!), scores: best.scores };
}

/** W from a saved state (keys w.indptr, w.indices, w.values), checked against the item count. */
export function restoreWeights(state: ModelState, nItems: number, model: string): SparseMatrix {
  const indptr = expectInt32(state, 'w.indptr');
  const indices = expectInt32(state, 'w.indices');
  const values = expectFloat32(state, 'w.values');
  if (indptr.length !== nItems + 1 || indices.length !== values.length || indptr[nItems] !== indices.length)
    throw new ConfigError(`saved ${model} model`, 'the weight arrays do not match the item count');
  return { nRows: nItems, nCols: nItems, indptr, indices, values };
}
