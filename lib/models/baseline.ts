import { z } from 'zod';
import type { Interactions } from '../data/interactions';
import { throwIfAborted } from '../util/errors';
import { BaseRecommender, expectFloat32, expectNumber } from './base';
import { type FoldedUser, foldInBias } from './fold-in';
import type { FitOptions, ModelState } from './recommender';

export const baselineSchema = z
  .object({
    method: z
      .enum(['als', 'sgd'])
      .default('als')
      .describe('how the biases are fitted (Surprise BaselineOnly)'),
    epochs: z.number().int().min(1).max(1000).optional().describe('default 10 for als, 20 for sgd'),
    regUser: z.number().min(0).default(15).describe('ALS regularisation of user biases'),
    regItem: z.number().min(0).default(10).describe('ALS regularisation of item biases'),
    reg: z.number().min(0).default(0.02).describe('SGD regularisation'),
    learningRate: z.number().positive().default(0.005).describe('SGD learning rate'),
  })
  .strict();
export type BaselineParams = z.infer<typeof baselineSchema>;
type ResolvedParams = Required<BaselineParams>;

/**
 * Global mean plus regularised user and item biases, r̂ = μ + b_u + b_i, fitted like Surprise's
 * BaselineOnly (alternating closed-form updates, or SGD). Unknown users/items get a zero bias and
 * predictions are clipped to the training rating range.
 */
export class BaselineModel extends BaseRecommender<ResolvedParams> {
  readonly name = 'baseline';
  private mean = 0;
  private userBias = new Float32Array(0);
  private itemBias = new Float32Array(0);
  private low = -Infinity;
  private high = Infinity;

  constructor(params: Partial<BaselineParams> = {}) {
    const p = baselineSchema.parse(params);
    // The cast keeps this compiling under tslab's non-strict checker, where zod infers every field optional.
    super({ ...p, epochs: p.epochs ?? (p.method === 'als' ? 10 : 20) } as ResolvedParams);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const { epochs, method } = this.params;
    this.mean = train.mean();
    this.userBias = new Float32Array(train.nUsers);
    this.itemBias = new Float32Array(train.nItems);
    [this.low, this.high] = ratingRange(train.ratings);
    const bu = new Float64Array(train.nUsers);
    const bi = new Float64Array(train.nItems);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      if (method === 'als') this.alsEpoch(train, bu, bi);
      else this.sgdEpoch(train, bu, bi);
      for (let u = 0; u < bu.length; u++) this.userBias[u] = bu[u]!;
      for (let i = 0; i < bi.length; i++) this.itemBias[i] = bi[i]!;
      if (options.onEpoch) {
        const seconds = (performance.now() - started) / 1000;
        const trainRmse = this.rmseOn(train);
        const validationRmse = options.validation ? this.rmseOn(options.validation) : undefined;
        options.onEpoch({ epoch, epochs, seconds, trainRmse, validationRmse });
      }
      await Promise.resolve();
    }
  }

  private alsEpoch(train: Interactions, bu: Float64Array, bi: Float64Array): void {
    const mu = this.mean;
    const byItem = train.csc();
    for (let i = 0; i < train.nItems; i++) {
      let dev = 0;
      const end = byItem.indptr[i + 1]!;
      for (let p = byItem.indptr[i]!; p < end; p++) dev += byItem.values[p]! - mu - bu[byItem.indices[p]!]!;
      bi[i] = dev / (this.params.regItem + (end - byItem.indptr[i]!));
    }
    const byUser = train.csr();
    for (let u = 0; u < train.nUsers; u++) {
      let dev = 0;
      const end = byUser.indptr[u + 1]!;
      for (let p = byUser.indptr[u]!; p < end; p++) dev += byUser.values[p]! - mu - bi[byUser.indices[p]!]!;
      bu[u] = dev / (this.params.regUser + (end - byUser.indptr[u]!));
    }
  }

  private sgdEpoch(train: Interactions, bu: Float64Array, bi: Float64Array): void {
    const { learningRate: lr, reg } = this.params;
    const mu = this.mean;
    const { indptr, indices, values } = train.csr();
    for (let u = 0; u < train.nUsers; u++) {
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const i = indices[p]!;
        const err = values[p]! - (mu + bu[u]! + bi[i]!);
        bu[u]! += lr * (err - reg * bu[u]!);
        bi[i]! += lr * (err - reg * bi[i]!);
      }
    }
  }

  protected predictOne(user: number, item: number): number {
    const r = this.mean + (this.userBias[user] ?? 0) + (this.itemBias[item] ?? 0);
    return r < this.low ? this.low : r > this.high ? this.high : r;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const base = this.mean + (this.userBias[user] ?? 0);
    for (let i = 0; i < out.length; i++) out[i] = base + this.itemBias[i]!;
  }

  /** A new user's bias by the user step of the ALS fit, b = Σ(r − μ − b_i) / (regUser + n). */
  protected override foldInProfile(items: Int32Array, ratings: Float32Array): FoldedUser {
    return foldInBias(this.mean, this.itemBias, items, ratings, this.params.regUser);
  }

  /** The fitted biases (read-only views). */
  get biases(): { mean: number; user: Float32Array; item: Float32Array } {
    return { mean: this.mean, user: this.userBias, item: this.itemBias };
  }

  protected modelState(): ModelState {
    return {
      mean: this.mean,
      low: this.low,
      high: this.high,
      userBias: this.userBias,
      itemBias: this.itemBias,
    };
  }

  protected restoreModel(state: ModelState): void {
    this.mean = expectNumber(state, 'mean');
    this.low = expectNumber(state, 'low');
    this.high = expectNumber(state, 'high');
    this.userBias = expectFloat32(state, 'userBias');
    this.itemBias = expectFloat32(state, 'itemBias');
  }
}

/** Smallest and largest rating (predictions are clipped to this range, as Surprise does). */
export function ratingRange(ratings: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < ratings.length; k++) {
    const r = ratings[k]!;
    if (r < lo) lo = r;
    if (r > hi) hi = r;
  }
  return [lo, hi];
}
