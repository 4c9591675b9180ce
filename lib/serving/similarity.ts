import { type TopK, topK } from '../compute/topk';
import type { Recommender } from '../models/recommender';
import { ConfigError } from '../util/errors';
import { itemCounts, type ModelView } from './model-view';

/** Item-item similarity as serving uses it: "similar movies" and "because you liked …". */
export interface ItemSimilarity {
  /** Where the numbers come from: the model's own `similarItems`, cosine of its item factors, or co-ratings. */
  readonly source: 'model' | 'factors' | 'co-rating';
  /** The `count` items most similar to `item`, the item itself left out. */
  similar(item: number, count: number): TopK;
  /** Similarity of two items (same measure as `similar` for 'factors' and 'co-rating'). */
  pair(a: number, b: number): number;
}

interface SimilarItemsModel {
  similarItems(item: number, count: number): TopK;
}

function hasSimilarItems(model: Recommender): model is Recommender & SimilarItemsModel {
  return typeof (model as Partial<SimilarItemsModel>).similarItems === 'function';
}

export interface SimilarityOptions {
  /** Factor cosine: items with fewer training interactions are not offered as neighbours (default 5). */
  minSupport?: number;
  /** Co-rating cosine: damping constant (default 5). */
  shrink?: number;
}

/**
 * The best similarity a model offers: its own `similarItems` when present (pairs then by factor cosine when it
 * has factors, else co-ratings), else cosine in its factor space, else co-rating cosine over the training data.
 */
export function itemSimilarity(
  model: Recommender,
  view: ModelView,
  options: SimilarityOptions = {},
): ItemSimilarity {
  const scorer = model.batchScorer?.() ?? null;
  const base: ItemSimilarity = scorer
    ? new FactorSimilarity(scorer.itemFactors, scorer.factors, itemCounts(view), options.minSupport ?? 5)
    : new CoRatingSimilarity(view, options.shrink ?? 5);
  if (!hasSimilarItems(model)) return base;
  const nItems = view.items.size;
  return {
    source: 'model',
    similar: (item, count) => {
      checkItem(item, nItems);
      return model.similarItems(item, count);
    },
    pair: (a, b) => base.pair(a, b),
  };
}

function checkItem(item: number, n: number): void {
  if (!(Number.isInteger(item) && item >= 0 && item < n))
    throw new ConfigError('item', `item index ${item} is outside 0..${n - 1}`);
}

function checkCount(count: number): void {
  if (!(Number.isInteger(count) && count > 0))
    throw new ConfigError('k', `must be a positive integer, got ${count}`);
}

/**
 * Cosine of item factor rows (norms precomputed once). Items with fewer than `minSupport` training interactions
 * are not offered as neighbours: their factors are mostly initialisation noise, and they crowd the top of a
 * cosine ranking.
 */
export class FactorSimilarity implements ItemSimilarity {
  readonly source = 'factors';
  private readonly norms: Float32Array;
  private readonly n: number;

  constructor(
    private readonly factors: Float32Array,
    private readonly k: number,
    private readonly support: Int32Array,
    private readonly minSupport: number,
  ) {
    this.n = factors.length / k;
    this.norms = new Float32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let f = 0; f < k; f++) s += factors[i * k + f]! * factors[i * k + f]!;
      this.norms[i] = Math.sqrt(s);
    }
  }

  pair(a: number, b: number): number {
    checkItem(a, this.n);
    checkItem(b, this.n);
    const na = this.norms[a]!;
    const nb = this.norms[b]!;
    if (!(na > 0 && nb > 0)) return 0;
    let s = 0;
    for (let f = 0; f < this.k; f++) s += this.factors[a * this.k + f]! * this.factors[b * this.k + f]!;
    return s / (na * nb);
  }

  similar(item: number, count: number): TopK {
    checkItem(item, this.n);
    checkCount(count);
    const k = this.k;
    const V = this.factors;
    const scores = new Float32Array(this.n);
    const qn = this.norms[item]!;
    const qb = item * k;
    for (let i = 0; i < this.n; i++) {
      const ni = this.norms[i]!;
      if (!(qn > 0 && ni > 0) || this.support[i]! < this.minSupport) {
        scores[i] = Number.NEGATIVE_INFINITY;
        continue;
      }
      let s = 0;
      const ib = i * k;
      for (let f = 0; f < k; f++) s += V[ib + f]! * V[qb + f]!;
      scores[i] = s / (qn * ni);
    }
    scores[item] = Number.NEGATIVE_INFINITY;
    return topK(scores, count);
  }
}

/**
 * Damped cosine of the items' sets of raters in the training data: co / √(n_a·n_b) · co / (co + shrink), where co
 * counts users who rated both. The item → users index is built once (O(ratings)); a query touches only the
 * ratings of the item's raters.
 */
export class CoRatingSimilarity implements ItemSimilarity {
  readonly source = 'co-rating';
  private readonly itemIndptr: Int32Array;
  private readonly itemUsers: Int32Array;
  private readonly co: Int32Array;

  constructor(
    private readonly view: ModelView,
    private readonly shrink: number,
  ) {
    const nItems = view.items.size;
    const nUsers = view.users.size;
    const counts = new Int32Array(nItems + 1);
    const { seenIndptr, seenIndices } = view;
    for (let p = 0; p < seenIndices.length; p++) counts[seenIndices[p]! + 1]!++;
    for (let i = 0; i < nItems; i++) counts[i + 1]! += counts[i]!;
    this.itemIndptr = counts;
    this.itemUsers = new Int32Array(seenIndices.length);
    const fill = counts.slice(0, nItems);
    for (let u = 0; u < nUsers; u++) {
      for (let p = seenIndptr[u]!; p < seenIndptr[u + 1]!; p++) this.itemUsers[fill[seenIndices[p]!]!++] = u;
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
    const n = this.view.items.size;
    checkItem(a, n);
    checkItem(b, n);
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

  similar(item: number, count: number): TopK {
    const n = this.view.items.size;
    checkItem(item, n);
    checkCount(count);
    const co = this.co;
    co.fill(0);
    const { seenIndptr, seenIndices } = this.view;
    for (let p = this.itemIndptr[item]!; p < this.itemIndptr[item + 1]!; p++) {
      const u = this.itemUsers[p]!;
      for (let q = seenIndptr[u]!; q < seenIndptr[u + 1]!; q++) co[seenIndices[q]!]!++;
    }
    const scores = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < n; i++) if (co[i]! > 0) scores[i] = this.score(co[i]!, item, i);
    scores[item] = Number.NEGATIVE_INFINITY;
    return topK(scores, count);
  }
}
