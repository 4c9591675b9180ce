import { factorScores, rowDot } from '../compute/linalg';
import type { TopK } from '../compute/topk';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectNumber } from './base';
import { factorNeighbours } from './item-similarity';
import type { FactorScorer, ModelState } from './recommender';

/**
 * What the implicit factor models (iALS, BPR, LMF) share once their factors are learned: score(u, i) = x_u · y_i
 * over rows of `rowWidth` values (iALS: the factors; BPR: factors + an item-bias column; LMF: factors + user and
 * item bias columns), cosine neighbours in that space, and the factors as the saved state. Each model's own
 * file learns the factors.
 */
export abstract class FactorRowsModel<
  P extends Record<string, number | string | boolean>,
> extends BaseRecommender<P> {
  protected userFactors = new Float32Array(0);
  protected itemFactors = new Float32Array(0);

  /** Values per factor row (user and item rows alike). */
  protected abstract get rowWidth(): number;

  protected predictOne(user: number, item: number): number {
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems)) return 0;
    return rowDot(this.userFactors, user, this.itemFactors, item, this.rowWidth);
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    factorScores(this.userFactors, this.itemFactors, this.rowWidth, user, out);
  }

  batchScorer(): FactorScorer {
    this.assertFitted();
    return {
      kind: 'factors',
      factors: this.rowWidth,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
    };
  }

  /** The `count` items closest to `item` by cosine of the factor rows, over every item (the item left out). */
  override similarItems(item: number, count: number): TopK {
    this.assertFitted();
    return factorNeighbours(this.itemFactors, this.rowWidth, item, count);
  }

  /** Fitted factor rows (read-only views): users × k and items × k, row-major. */
  get factorsView(): { users: Float32Array; items: Float32Array; k: number } {
    return { users: this.userFactors, items: this.itemFactors, k: this.rowWidth };
  }

  protected modelState(): ModelState {
    return { factors: this.rowWidth, userFactors: this.userFactors, itemFactors: this.itemFactors };
  }

  protected restoreModel(state: ModelState): void {
    restoreFactors(this, state, this.rowWidth);
    this.userFactors = expectFloat32(state, 'userFactors');
    this.itemFactors = expectFloat32(state, 'itemFactors');
  }
}

/** Checks saved factor arrays against the model's shape before they are used. */
export function restoreFactors(
  model: BaseRecommender<Record<string, number | string | boolean>>,
  state: ModelState,
  k: number,
  userKey = 'userFactors',
  itemKey = 'itemFactors',
): void {
  const saved = expectNumber(state, 'factors');
  const u = expectFloat32(state, userKey);
  const i = expectFloat32(state, itemKey);
  if (saved !== k || u.length !== model.nUsers * k || i.length !== model.nItems * k) {
    throw new ConfigError(
      `saved ${model.name} model`,
      `factor arrays do not match ${model.nUsers} users × ${model.nItems} items × ${k} factors`,
    );
  }
}

/** Fails loudly (instead of ranking with NaN) when training diverged. */
export function checkFinite(name: string, ...arrays: Float32Array[]): void {
  for (const a of arrays) {
    for (let e = 0; e < a.length; e++) {
      if (!Number.isFinite(a[e]!)) {
        throw new ConfigError(
          name,
          'training diverged (non-finite factors); lower the learning rate or raise the regularization',
        );
      }
    }
  }
}
