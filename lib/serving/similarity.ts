import type { TopK } from '../compute/topk';
import {
  CoRatingIndex,
  checkItemQuery,
  factorCosine,
  factorNeighbours,
  type SimilaritySource,
} from '../models/item-similarity';
import type { Recommender } from '../models/recommender';
import type { ModelView } from './model-view';

/** Item-item similarity as serving uses it: "similar movies" and "because you liked …". */
export interface ItemSimilarity {
  /** Where the numbers come from: the model's own `similarItems`, cosine of its item factors, or co-ratings. */
  readonly source: SimilaritySource;
  /** The `count` items most similar to `item`, the item itself left out. */
  similar(item: number, count: number): TopK;
  /** Similarity of two items (same measure as `similar` for 'factors' and 'co-rating'). */
  pair(a: number, b: number): number;
}

/**
 * The model's item similarity (its `similarItems`, `itemSimilarity` and `similaritySource` capabilities): its own
 * neighbours where it has them, else cosine in its factor space, else co-rating cosine over the training data.
 */
export function itemSimilarity(model: Recommender, _view?: ModelView): ItemSimilarity {
  return {
    source: model.similaritySource,
    similar: (item, count) => model.similarItems(item, count),
    pair: (a, b) => model.itemSimilarity(a, b),
  };
}

/**
 * Cosine of item factor rows, given as arrays (lib/models/item-similarity); items with fewer than `minSupport`
 * training interactions are not offered as neighbours.
 */
export class FactorSimilarity implements ItemSimilarity {
  readonly source = 'factors';
  private readonly n: number;

  constructor(
    private readonly factors: Float32Array,
    private readonly k: number,
    private readonly support: Int32Array,
    private readonly minSupport: number,
  ) {
    this.n = factors.length / k;
  }

  pair(a: number, b: number): number {
    checkItemQuery(a, 1, this.n);
    checkItemQuery(b, 1, this.n);
    return factorCosine(this.factors, this.k, a, b);
  }

  similar(item: number, count: number): TopK {
    return factorNeighbours(this.factors, this.k, item, count, {
      support: this.support,
      minSupport: this.minSupport,
    });
  }
}

/** Damped co-rating cosine over a model view's training items (lib/models/item-similarity's CoRatingIndex). */
export class CoRatingSimilarity implements ItemSimilarity {
  readonly source = 'co-rating';
  private readonly index: CoRatingIndex;

  constructor(view: ModelView, shrink: number) {
    this.index = new CoRatingIndex(view.seenIndptr, view.seenIndices, view.items.size, shrink);
  }

  pair(a: number, b: number): number {
    return this.index.pair(a, b);
  }

  similar(item: number, count: number): TopK {
    return this.index.similar(item, count);
  }
}
