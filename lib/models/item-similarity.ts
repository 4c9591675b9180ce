/**
 * Item-item similarity as models offer it (`similarItems`, `itemSimilarity`, `explain` on BaseRecommender):
 * cosine of item factor rows for factor models, damped co-rating cosine over the training interactions for the
 * rest, and "because you liked" — the rated items most similar to an item. The one implementation serving
 * (lib/serving/similarity.ts, service.ts) and the embeddings views (lib/viz/embeddings.ts) use.
 */
import { cosineToAll } from '../compute/linalg';
import { type TopK, topK } from '../compute/topk';
import { ConfigError } from '../util/errors';

/** Where a model's `similarItems` comes from: its own neighbours / measure, its item factors, or co-ratings. */
export type SimilaritySource = 'model' | 'factors' | 'co-rating';

/** Factor cosine: items with fewer training interactions are not offered as neighbours (their factors are mostly noise). */
export const DEFAULT_MIN_SUPPORT = 5;
/** Co-rating cosine: damping constant. */
export const DEFAULT_CO_RATING_SHRINK = 5;

/** Items with their similarity to a query item, most similar first (full double precision). */
export interface SimilarItems {
  items: Int32Array;
  scores: Float64Array;
}

/** A ConfigError unless `item` is an index in 0..n−1 and `count` a positive integer. */
export function checkItemQuery(item: number, count: number, n: number): void {
  if (!(Number.isInteger(item) && item >= 0 && item < n))
    throw new ConfigError('item', `item index ${item} is outside 0..${n - 1}`);
  if (!(Number.isInteger(count) && count > 0))
    throw new ConfigError('k', `must be a positive integer, got ${count}`);
}

/**
 * The `count` rows of `itemFactors` (n × k, row-major) closest to row `item` by cosine, the item itself and
 * zero rows left out; with `support`, rows whose support is below `minSupport` are left out too.
 */
export function factorNeighbours(
  itemFactors: Float32Array,
  k: number,
  item: number,
  count: number,
  options: { support?: Int32Array; minSupport?: number } = {},
): TopK {
  const n = itemFactors.length / k;
  checkItemQuery(item, count, n);
  const scores = new Float32Array(n);
  cosineToAll(itemFactors, k, item, scores);
  const { support, minSupport = 0 } = options;
  if (support && minSupport > 0)
    for (let i = 0; i < n; i++) if (support[i]! < minSupport) scores[i] = Number.NEGATIVE_INFINITY;
  scores[item] = Number.NEGATIVE_INFINITY;
  return topK(scores, count);
}

/** Cosine of factor rows `a` and `b` (0 when either row is zero). */
export function factorCosine(itemFactors: Float32Array, k: number, a: number, b: number): number {
  const ab = a * k;
  const bb = b * k;
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let f = 0; f < k; f++) {
    const x = itemFactors[ab + f]!;
    const y = itemFactors[bb + f]!;
    s += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? s / (Math.sqrt(na) * Math.sqrt(nb)) : 0;
}

/**
 * Damped cosine of the items' sets of raters in the training data: co / √(n_a·n_b) · co / (co + shrink), where co
 * counts users who rated both. The item → users index is built once (O(ratings)); a query touches only the
 * ratings of the item's raters.
 */
export class CoRatingIndex {
  private readonly itemIndptr: Int32Array;
  private readonly itemUsers: Int32Array;
  private readonly co: Int32Array;
  readonly nItems: number;

  /** `indptr` / `indices`: each user's training items (users × items CSR). */
  constructor(
    private readonly indptr: Int32Array,
    private readonly indices: Int32Array,
    nItems: number,
    private readonly shrink = DEFAULT_CO_RATING_SHRINK,
  ) {
    this.nItems = nItems;
    const nUsers = indptr.length - 1;
    const counts = new Int32Array(nItems + 1);
    for (let p = 0; p < indices.length; p++) counts[indices[p]! + 1]!++;
    for (let i = 0; i < nItems; i++) counts[i + 1]! += counts[i]!;
    this.itemIndptr = counts;
    this.itemUsers = new Int32Array(indices.length);
    const fill = counts.slice(0, nItems);
    for (let u = 0; u < nUsers; u++) {
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) this.itemUsers[fill[indices[p]!]!++] = u;
    }
    this.co = new Int32Array(nItems);
  }

  private raters(i: number): number {
    return this.itemIndptr[i + 1]! - this.itemIndptr[i]!;
  }

  private score(co: number, a: number, b: number): number {
    if (co === 0) return 0;
    return (co / Math.sqrt(this.raters(a) * this.raters(b))) * (co / (co + this.shrink));
  }

  pair(a: number, b: number): number {
    checkItemQuery(a, 1, this.nItems);
    checkItemQuery(b, 1, this.nItems);
    const U = this.itemUsers;
    let pa = this.itemIndptr[a]!;
    let pb = this.itemIndptr[b]!;
    const ea = this.itemIndptr[a + 1]!;
    const eb = this.itemIndptr[b + 1]!;
    let co = 0;
    while (pa < ea && pb < eb) {
      const ua = U[pa]!;
      const ub = U[pb]!;
      if (ua === ub) {
        co++;
        pa++;
        pb++;
      } else if (ua < ub) pa++;
      else pb++;
    }
    return this.score(co, a, b);
  }

  /** The `count` items with the highest damped co-rating cosine to `item` (only items sharing a rater). */
  similar(item: number, count: number): TopK {
    const n = this.nItems;
    checkItemQuery(item, count, n);
    const co = this.co;
    co.fill(0);
    const { indptr, indices } = this;
    for (let p = this.itemIndptr[item]!; p < this.itemIndptr[item + 1]!; p++) {
      const u = this.itemUsers[p]!;
      for (let q = indptr[u]!; q < indptr[u + 1]!; q++) co[indices[q]!]!++;
    }
    const scores = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < n; i++) if (co[i]! > 0) scores[i] = this.score(co[i]!, item, i);
    scores[item] = Number.NEGATIVE_INFINITY;
    return topK(scores, count);
  }
}

/**
 * "Because you liked": the `count` items of `candidates` most similar to `item` by `similarity`, most similar
 * first (ties: lower index), the item itself and non-finite similarities left out.
 */
export function mostSimilarAmong(
  candidates: ArrayLike<number>,
  item: number,
  count: number,
  similarity: (a: number, b: number) => number,
): SimilarItems {
  const items: number[] = [];
  const scores: number[] = [];
  for (let p = 0; p < candidates.length; p++) {
    const j = candidates[p]!;
    if (j === item) continue;
    const s = similarity(item, j);
    if (!Number.isFinite(s)) continue;
    items.push(j);
    scores.push(s);
  }
  const order = Array.from(items.keys()).sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!);
  const kept = order.slice(0, Math.max(0, count));
  return {
    items: Int32Array.from(kept, (o) => items[o]!),
    scores: Float64Array.from(kept, (o) => scores[o]!),
  };
}
