import { z } from 'zod';
import { emptyWeights, scoreOneWithWeights, scoreWithWeights } from '../compute/item-weights';
import { rp3betaWeights } from '../compute/rp3beta';
import { fromCompressed, type SparseMatrix, transpose } from '../compute/sparse';
import { type TopK, topK } from '../compute/topk';
import type { Interactions } from '../data/interactions';
import { binarize } from '../features/weighting';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32 } from './base';
import { alignedValues } from './ease';
import { resolveThreads } from './ials';
import { checkItemQuery } from './item-similarity';
import type { FitOptions, ModelState } from './recommender';

export const rp3betaSchema = z
  .object({
    alpha: z
      .number()
      .min(0)
      .default(1)
      .describe('exponent α of the transition probabilities P_ui = 1/deg(u), P_iu = 1/deg(i)'),
    beta: z
      .number()
      .min(0)
      .default(0.5)
      .describe('popularity discount: weights into item j are divided by pop(j)^β (0 gives P³α)'),
    topK: z.number().int().min(1).max(100000).default(100).describe('neighbours kept per item (row of W)'),
    normalize: z.boolean().default(false).describe('divide each kept row of W by its sum (l1)'),
    threshold: z
      .number()
      .min(0)
      .default(0)
      .describe('interactions rated below this are not edges of the graph (0 keeps all)'),
  })
  .strict();
/** Declared explicitly (not z.infer) so that tslab's non-strict compile keeps the fields required. */
export type Rp3betaParams = {
  alpha: number;
  beta: number;
  topK: number;
  normalize: boolean;
  threshold: number;
};

/**
 * RP3β (Paudel et al. 2017, "Updatable, accurate, diverse, and scalable recommendations for interactive
 * applications"): item-item weights of a three-step random walk on the binary user-item graph, each step's
 * probability raised to α and divided by the arrival item's popularity to the β (lib/compute/rp3beta.ts), the
 * topK per item; score(u, ·) = x_u · W with x_u the user's binary interactions.
 */
export class Rp3betaModel extends BaseRecommender<Rp3betaParams> {
  readonly name = 'rp3beta';
  private w: SparseMatrix = emptyWeights();
  /** 1 for the seen entries that are edges (rating ≥ threshold), else 0; aligned with the seen arrays. */
  private xValues = new Float32Array(0);
  private acc = new Float64Array(0);

  constructor(params: Partial<Rp3betaParams> = {}) {
    super(rp3betaSchema.parse(params) as Rp3betaParams);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const p = this.params;
    const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
    const x = binarize(full, p.threshold);
    this.xValues = alignedValues(full, x);
    this.w = await rp3betaWeights(x, transpose(x), {
      alpha: p.alpha,
      beta: p.beta,
      topK: p.topK,
      normalize: p.normalize,
      threads: resolveThreads(options.threads),
    });
    this.acc = new Float64Array(train.nItems);
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }

  /** The item-item weights W (row i: the items i leads to, best first). */
  get weights(): SparseMatrix {
    return this.w;
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

  /** The item's row of W (at most topK), best first. */
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
    this.w = restoreWeights(state, this.nItems, 'rp3beta');
    this.xValues = expectFloat32(state, 'xValues');
    this.acc = new Float64Array(this.nItems);
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
