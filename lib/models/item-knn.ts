import { z } from 'zod';
import { fromCompressed, type SparseMatrix, toStorage, transpose } from '../compute/sparse';
import { allPairsKnn } from '../compute/sparse-knn';
import { type TopK, topK } from '../compute/topk';
import type { Interactions } from '../data/interactions';
import { binarize, bm25Weight, dropBelow, normalizeRows, tfidfWeight } from '../features/weighting';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32 } from './base';
import { alignedValues } from './ease';
import { resolveThreads } from './ials';
import { checkItemQuery } from './item-similarity';
import type { FitOptions, ModelState } from './recommender';

export const itemKnnSchema = z
  .object({
    k: z.number().int().min(1).max(10000).default(20).describe('neighbours kept per item (implicit K)'),
    weighting: z
      .enum(['cosine', 'tfidf', 'bm25', 'none'])
      .default('cosine')
      .describe("implicit's CosineRecommender, TFIDFRecommender, BM25Recommender, or raw co-occurrence"),
    K1: z.number().min(0).default(1.2).describe('bm25 term saturation'),
    B: z.number().min(0).max(1).default(0.75).describe('bm25 length normalisation'),
    values: z
      .enum(['binary', 'rating'])
      .default('binary')
      .describe("an interaction's value: 1, or its rating"),
    threshold: z.number().min(0).default(0).describe('drop interactions rated below this (0 keeps all)'),
  })
  .strict();
export type ItemKnnParams = z.infer<typeof itemKnnSchema>;

/**
 * Item-based nearest neighbours for implicit data with implicit's semantics: item vectors over users weighted
 * by cosine (unit rows), tf-idf (then unit rows) or bm25, the top-K similar items per item (itself included),
 * and score(u, j) = Σ_{i ∈ u} v_ui·sim(i, j).
 */
export class ItemKnnModel extends BaseRecommender<ItemKnnParams> {
  readonly name = 'knn-topn-item';
  private sim: SparseMatrix = emptyMatrix();
  private xValues = new Float32Array(0);
  private xIndptr = new Int32Array(0);

  constructor(params: Partial<ItemKnnParams> = {}) {
    super(itemKnnSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const p = this.params;
    const threads = resolveThreads(options.threads);
    const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
    const kept = p.values === 'binary' ? binarize(full, p.threshold) : dropBelow(full, p.threshold);
    this.xValues = alignedValues(full, kept);
    this.xIndptr = full.indptr;
    const byItemRaw = transpose(kept);
    const weighted =
      p.weighting === 'cosine'
        ? normalizeRows(byItemRaw)
        : p.weighting === 'tfidf'
          ? normalizeRows(tfidfWeight(byItemRaw))
          : p.weighting === 'bm25'
            ? bm25Weight(byItemRaw, p.K1, p.B)
            : byItemRaw;
    const storage = threads > 1 ? 'shared' : 'plain';
    const byItem = toStorage(weighted, storage);
    const byUser = transpose(weighted, storage);
    this.sim = await allPairsKnn(byItem, byUser, p.k, threads);
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }

  protected predictOne(user: number, item: number): number {
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems)) return 0;
    const seen = this.seenItems(user);
    const offset = this.xIndptr[user]!;
    let s = 0;
    for (let q = 0; q < seen.length; q++) {
      const i = seen[q]!;
      for (let e = this.sim.indptr[i]!; e < this.sim.indptr[i + 1]!; e++) {
        if (this.sim.indices[e] === item) s += this.xValues[offset + q]! * this.sim.values[e]!;
      }
    }
    return s;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    out.fill(0);
    const seen = this.seenItems(user);
    const offset = this.xIndptr[user]!;
    const { indptr, indices, values } = this.sim;
    for (let q = 0; q < seen.length; q++) {
      const v = this.xValues[offset + q]!;
      if (v === 0) continue;
      const i = seen[q]!;
      for (let e = indptr[i]!; e < indptr[i + 1]!; e++) out[indices[e]!]! += v * values[e]!;
    }
  }

  /** The item's stored neighbours (at most k), best first, the item itself left out. */
  override similarItems(item: number, count: number): TopK {
    this.assertFitted();
    checkItemQuery(item, count, this.nItems);
    const from = this.sim.indptr[item]!;
    const to = this.sim.indptr[item + 1]!;
    const scores = new Float32Array(to - from);
    const ids = this.sim.indices.subarray(from, to);
    for (let e = from; e < to; e++)
      scores[e - from] = ids[e - from] === item ? Number.NEGATIVE_INFINITY : this.sim.values[e]!;
    // Ties by lower item index: rank over the ascending-sorted neighbour ids.
    const order = Int32Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
    const sorted = Float32Array.from(order, (o) => scores[o]!);
    const best = topK(sorted, count);
    return { items: Int32Array.from(best.items, (o) => ids[order[o]!]!), scores: best.scores };
  }

  /** The neighbour lists (items × items, at most k per row). */
  get similarity(): SparseMatrix {
    return this.sim;
  }

  protected modelState(): ModelState {
    return {
      'sim.indptr': this.sim.indptr,
      'sim.indices': this.sim.indices,
      'sim.values': this.sim.values,
      xValues: this.xValues,
      xIndptr: this.xIndptr,
    };
  }

  protected restoreModel(state: ModelState): void {
    const indptr = expectInt32(state, 'sim.indptr');
    const indices = expectInt32(state, 'sim.indices');
    const values = expectFloat32(state, 'sim.values');
    if (
      indptr.length !== this.nItems + 1 ||
      indices.length !== values.length ||
      indptr[this.nItems] !== indices.length
    )
      throw new ConfigError('saved knn-topn-item model', 'the similarity arrays do not match the item count');
    this.sim = { nRows: this.nItems, nCols: this.nItems, indptr, indices, values };
    this.xValues = expectFloat32(state, 'xValues');
    this.xIndptr = expectInt32(state, 'xIndptr');
  }
}

function emptyMatrix(): SparseMatrix {
  return {
    nRows: 0,
    nCols: 0,
    indptr: new Int32Array(1),
    indices: new Int32Array(0),
    values: new Float32Array(0),
  };
}
