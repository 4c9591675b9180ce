import { z } from 'zod';
import {
  assembleSymmetric,
  KNN_TASK_MODULE,
  type SimilarityInput,
  type SimilarityRows,
  similarityRows,
} from '../compute/knn';
import { toShared, workerPool } from '../compute/pool';
import type { Interactions } from '../data/interactions';
import { ConfigError, throwIfAborted } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32, expectNumber } from './base';
import { BaselineModel, ratingRange } from './baseline';
import type { FitOptions, ModelState } from './recommender';
import { expectFloat64 } from './svd';

export const knnSchema = z
  .object({
    variant: z
      .enum(['basic', 'means', 'baseline'])
      .default('basic')
      .describe("Surprise's KNNBasic / KNNWithMeans / KNNBaseline"),
    similarity: z
      .enum(['cosine', 'msd', 'pearson', 'pearson-baseline'])
      .default('msd')
      .describe('similarity measure (Surprise sim_options name)'),
    k: z.number().int().min(1).default(40).describe('maximum number of neighbours aggregated'),
    minK: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('fewer neighbours than this: fall back (mean/baseline)'),
    minSupport: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('minimum common ratings for a non-zero similarity'),
    shrinkage: z.number().min(0).default(100).describe('pearson-baseline shrinkage (as in Surprise)'),
    maxNeighbors: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('keep only the most similar neighbours per row (0: all positive similarities)'),
    bslMethod: z.enum(['als', 'sgd']).default('als').describe('baseline fit (bsl_options method)'),
    bslEpochs: z.number().int().min(1).optional().describe('baseline epochs (default 10 als, 20 sgd)'),
    bslRegUser: z.number().min(0).default(15).describe('baseline ALS reg_u'),
    bslRegItem: z.number().min(0).default(10).describe('baseline ALS reg_i'),
    bslReg: z.number().min(0).default(0.02).describe('baseline SGD reg'),
    bslLearningRate: z.number().positive().default(0.005).describe('baseline SGD learning rate'),
  })
  .strict();
export type KnnParams = z.infer<typeof knnSchema>;
type KnnInput = Partial<z.input<typeof knnSchema>>;

/**
 * Neighbourhood rating prediction with Surprise's KNNBasic / KNNWithMeans / KNNBaseline semantics, item-based
 * (neighbours are items the user rated) or user-based (neighbours are users who rated the item). For a pair
 * (x, y) the k most similar neighbours of x among those with a rating on y are aggregated, positive
 * similarities only. Similarities are sparse rows sorted by decreasing similarity (lib/compute/knn.ts), so the k
 * nearest raters are the first k hits of a walk down the row.
 */
export class KnnModel extends BaseRecommender<KnnParams> {
  readonly name: 'knn-rating-item' | 'knn-rating-user';
  private mean = 0;
  private low = -Infinity;
  private high = Infinity;
  private simIndptr = new Int32Array(1);
  private simIndices = new Int32Array(0);
  private simValues = new Float32Array(0);
  /** Ratings by x and by y (x = item for item-based, user for user-based). */
  private xIndptr = new Int32Array(1);
  private xIndices = new Int32Array(0);
  private xValues = new Float32Array(0);
  private yIndptr = new Int32Array(1);
  private yIndices = new Int32Array(0);
  private yValues = new Float32Array(0);
  private xMeans = new Float64Array(0);
  private xBias = new Float64Array(0);
  private yBias = new Float64Array(0);

  constructor(
    readonly userBased: boolean,
    params: KnnInput = {},
  ) {
    super(knnSchema.parse(params));
    this.name = userBased ? 'knn-rating-user' : 'knn-rating-item';
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    this.mean = train.mean();
    [this.low, this.high] = ratingRange(train.ratings);
    const byUser = train.csr();
    const byItem = train.csc();
    const xr = this.userBased ? byUser : byItem;
    const yr = this.userBased ? byItem : byUser;
    this.xIndptr = xr.indptr;
    this.xIndices = xr.indices;
    this.xValues = xr.values;
    this.yIndptr = yr.indptr;
    this.yIndices = yr.indices;
    this.yValues = yr.values;
    const nX = xr.indptr.length - 1;
    this.xMeans = new Float64Array(nX);
    for (let x = 0; x < nX; x++) {
      let s = 0;
      for (let q = xr.indptr[x]!; q < xr.indptr[x + 1]!; q++) s += xr.values[q]!;
      const n = xr.indptr[x + 1]! - xr.indptr[x]!;
      this.xMeans[x] = n > 0 ? s / n : this.mean;
    }
    const needBaseline = p.variant === 'baseline' || p.similarity === 'pearson-baseline';
    if (needBaseline) {
      const bsl = new BaselineModel({
        method: p.bslMethod,
        epochs: p.bslEpochs,
        regUser: p.bslRegUser,
        regItem: p.bslRegItem,
        reg: p.bslReg,
        learningRate: p.bslLearningRate,
      });
      await bsl.fit(train);
      const { user, item } = bsl.biases;
      this.xBias = Float64Array.from(this.userBased ? user : item);
      this.yBias = Float64Array.from(this.userBased ? item : user);
    } else {
      this.xBias = new Float64Array(0);
      this.yBias = new Float64Array(0);
    }
    throwIfAborted(options.signal, `${this.name} training`);
    const started = performance.now();
    const threads = options.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1))
      throw new ConfigError('threads', `must be a positive integer, got ${threads}`);
    const input: SimilarityInput = {
      similarity: p.similarity,
      nX,
      xIndptr: xr.indptr,
      xIndices: xr.indices,
      xValues: xr.values,
      yIndptr: yr.indptr,
      yIndices: yr.indices,
      yValues: yr.values,
      minSupport: p.minSupport,
      shrinkage: p.shrinkage,
      maxNeighbors: p.maxNeighbors,
      mean: this.mean,
      xBias: needBaseline ? this.xBias : null,
      yBias: needBaseline ? this.yBias : null,
    };
    // Uncapped rows: each pair once (upper triangle) then mirrored; capped rows need every row complete.
    const upperOnly = p.maxNeighbors === 0;
    const parts = await computeRows(input, threads, options.signal, upperOnly);
    if (upperOnly) {
      const rows = assembleSymmetric(nX, parts);
      this.simIndptr = rows.indptr;
      this.simIndices = rows.indices;
      this.simValues = rows.sims;
    } else {
      let nnz = 0;
      for (const part of parts) nnz += part.indices.length;
      this.simIndptr = new Int32Array(nX + 1);
      this.simIndices = new Int32Array(nnz);
      this.simValues = new Float32Array(nnz);
      let x = 0;
      let at = 0;
      for (const part of parts) {
        for (let t = 0; t < part.counts.length; t++, x++)
          this.simIndptr[x + 1] = this.simIndptr[x]! + part.counts[t]!;
        this.simIndices.set(part.indices, at);
        this.simValues.set(part.sims, at);
        at += part.indices.length;
      }
    }
    const nnz = this.simIndices.length;
    if (options.onEpoch) {
      const report = {
        epoch: 1,
        epochs: 1,
        seconds: (performance.now() - started) / 1000,
        metrics: { neighbours: nnz },
      };
      this.fitted = true;
      options.onEpoch({
        ...report,
        trainRmse: this.rmseOn(train),
        validationRmse: options.validation ? this.rmseOn(options.validation) : undefined,
      });
    }
  }

  /** Number of stored (positive) similarities, including each row's own. */
  get neighbourCount(): number {
    return this.simIndices.length;
  }

  /** Similarity of rows x and x2 (0 when not stored). */
  similarity(x: number, x2: number): number {
    for (let q = this.simIndptr[x]!; q < this.simIndptr[x + 1]!; q++)
      if (this.simIndices[q] === x2) return this.simValues[q]!;
    return 0;
  }

  override predict(users: Int32Array, items: Int32Array): Float32Array {
    this.assertFitted();
    const n = users.length;
    const out = new Float32Array(n);
    const xs = this.userBased ? users : items;
    const ys = this.userBased ? items : users;
    const nY = this.yIndptr.length - 1;
    // group pairs by y, then scatter y's ratings once per group
    const start = new Int32Array(nY + 2);
    for (let t = 0; t < n; t++) {
      const y = ys[t]!;
      start[(y >= 0 && y < nY ? y : nY) + 1]!++;
    }
    for (let y = 0; y <= nY; y++) start[y + 1]! += start[y]!;
    const order = new Int32Array(n);
    const fill = start.slice();
    for (let t = 0; t < n; t++) {
      const y = ys[t]!;
      order[fill[y >= 0 && y < nY ? y : nY]!++] = t;
    }
    const ratingOf = new Float32Array(this.xIndptr.length - 1).fill(Number.NaN);
    for (let y = 0; y <= nY; y++) {
      if (start[y] === start[y + 1]) continue;
      if (y < nY) this.scatter(y, ratingOf);
      for (let o = start[y]!; o < start[y + 1]!; o++) {
        const t = order[o]!;
        out[t] = this.estimate(xs[t]!, y < nY ? y : -1, ratingOf);
      }
      if (y < nY) this.unscatter(y, ratingOf);
    }
    return out;
  }

  protected predictOne(user: number, item: number): number {
    return this.predict(Int32Array.of(user), Int32Array.of(item))[0]!;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const n = out.length;
    const items = new Int32Array(n);
    for (let i = 0; i < n; i++) items[i] = i;
    out.set(this.predict(new Int32Array(n).fill(user), items));
  }

  private scatter(y: number, ratingOf: Float32Array): void {
    for (let q = this.yIndptr[y]!; q < this.yIndptr[y + 1]!; q++)
      ratingOf[this.yIndices[q]!] = this.yValues[q]!;
  }

  private unscatter(y: number, ratingOf: Float32Array): void {
    for (let q = this.yIndptr[y]!; q < this.yIndptr[y + 1]!; q++) ratingOf[this.yIndices[q]!] = Number.NaN;
  }

  /** Surprise's estimate for (x, y), y's ratings scattered in `ratingOf` (y = -1: unknown). */
  private estimate(x: number, y: number, ratingOf: Float32Array): number {
    const p = this.params;
    const nX = this.xIndptr.length - 1;
    const knownX = x >= 0 && x < nX && this.xIndptr[x + 1]! > this.xIndptr[x]!;
    const knownY = y >= 0 && this.yIndptr[y + 1]! > this.yIndptr[y]!;
    let base: number;
    if (p.variant === 'baseline') {
      base = this.mean + (knownX ? this.xBias[x]! : 0) + (knownY ? this.yBias[y]! : 0);
      if (!(knownX && knownY)) return this.clip(base);
    } else {
      if (!(knownX && knownY)) return this.clip(this.mean);
      base = p.variant === 'means' ? this.xMeans[x]! : 0;
    }
    const byY = p.variant === 'baseline' ? this.mean + this.yBias[y]! : 0;
    let sumSim = 0;
    let sum = 0;
    let actual = 0;
    const end = this.simIndptr[x + 1]!;
    for (let q = this.simIndptr[x]!; q < end && actual < p.k; q++) {
      const x2 = this.simIndices[q]!;
      const r = ratingOf[x2]!;
      if (Number.isNaN(r)) continue;
      const s = this.simValues[q]!;
      let dev = r;
      if (p.variant === 'means') dev = r - this.xMeans[x2]!;
      else if (p.variant === 'baseline') dev = r - byY - this.xBias[x2]!;
      sumSim += s;
      sum += s * dev;
      actual++;
    }
    if (p.variant === 'basic') {
      if (actual < p.minK || sumSim === 0) return this.clip(this.mean);
      return this.clip(sum / sumSim);
    }
    if (actual < p.minK || sumSim === 0) return this.clip(base);
    return this.clip(base + sum / sumSim);
  }

  private clip(r: number): number {
    return r < this.low ? this.low : r > this.high ? this.high : r;
  }

  protected modelState(): ModelState {
    return {
      mean: this.mean,
      low: this.low,
      high: this.high,
      'sim.indptr': this.simIndptr,
      'sim.indices': this.simIndices,
      'sim.values': this.simValues,
      'x.indptr': this.xIndptr,
      'x.indices': this.xIndices,
      'x.values': this.xValues,
      'y.indptr': this.yIndptr,
      'y.indices': this.yIndices,
      'y.values': this.yValues,
      xMeans: this.xMeans,
      xBias: this.xBias,
      yBias: this.yBias,
    };
  }

  protected restoreModel(state: ModelState): void {
    this.mean = expectNumber(state, 'mean');
    this.low = expectNumber(state, 'low');
    this.high = expectNumber(state, 'high');
    this.simIndptr = expectInt32(state, 'sim.indptr');
    this.simIndices = expectInt32(state, 'sim.indices');
    this.simValues = expectFloat32(state, 'sim.values');
    this.xIndptr = expectInt32(state, 'x.indptr');
    this.xIndices = expectInt32(state, 'x.indices');
    this.xValues = expectFloat32(state, 'x.values');
    this.yIndptr = expectInt32(state, 'y.indptr');
    this.yIndices = expectInt32(state, 'y.indices');
    this.yValues = expectFloat32(state, 'y.values');
    this.xMeans = expectFloat64(state, 'xMeans');
    this.xBias = expectFloat64(state, 'xBias');
    this.yBias = expectFloat64(state, 'yBias');
  }
}

/** Rows in fixed chunks (the split does not depend on the thread count), in worker threads when threads > 1. */
async function computeRows(
  input: SimilarityInput,
  threads: number,
  signal: AbortSignal | undefined,
  upperOnly: boolean,
): Promise<SimilarityRows[]> {
  const chunk = 256;
  const pieces: Array<[number, number]> = [];
  for (let from = 0; from < input.nX; from += chunk) pieces.push([from, Math.min(input.nX, from + chunk)]);
  if (threads === 1) {
    const out: SimilarityRows[] = [];
    for (const [from, to] of pieces) {
      throwIfAborted(signal, 'similarity computation');
      out.push(similarityRows(input, from, to, upperOnly));
    }
    return out;
  }
  const shared: SimilarityInput = {
    ...input,
    xIndptr: toShared(input.xIndptr),
    xIndices: toShared(input.xIndices),
    xValues: toShared(input.xValues),
    yIndptr: toShared(input.yIndptr),
    yIndices: toShared(input.yIndices),
    yValues: toShared(input.yValues),
  };
  const pool = workerPool(threads);
  const task = { module: KNN_TASK_MODULE, fn: 'similarityRowsTask' };
  return pool.map<SimilarityRows>(
    task,
    pieces.map(([from, to]) => ({ input: shared, from, to, upperOnly })),
  );
}
