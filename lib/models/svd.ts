import { z } from 'zod';
import { fillNormalParallel } from '../compute/normals';
import { workerPool } from '../compute/pool';
import {
  balancedGroups,
  blockLayout,
  epochControl,
  SGD_TASK_MODULE,
  type SgdEpochTask,
  type SgdRates,
  type SgdState,
  sgdEpochSerial,
} from '../compute/sgd';
import { SgdArena, sgdKernelModule } from '../compute/sgd-wasm';
import type { Interactions } from '../data/interactions';
import { ConfigError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { BaseRecommender, expectFloat32, expectNumber, type Params } from './base';
import { ratingRange } from './baseline';
import type { FactorScorer, FitOptions, ModelState } from './recommender';

/** An optional per-term learning rate or regularisation (Surprise's lr_bu … reg_qi), overriding the *All one. */
export const rate = (what: string) => z.number().min(0).optional().describe(what);

/** The per-term rates SVD and SVD++ share (SVD++ adds the y_j terms). */
export const PER_TERM_RATES = {
  lrBu: rate('learning rate of user biases (overrides learningRate)'),
  lrBi: rate('learning rate of item biases (overrides learningRate)'),
  lrPu: rate('learning rate of user factors (overrides learningRate)'),
  lrQi: rate('learning rate of item factors (overrides learningRate)'),
  regBu: rate('regularisation of user biases (overrides reg)'),
  regBi: rate('regularisation of item biases (overrides reg)'),
  regPu: rate('regularisation of user factors (overrides reg)'),
  regQi: rate('regularisation of item factors (overrides reg)'),
};

export const svdSchema = z
  .object({
    factors: z.number().int().min(1).max(2048).default(100).describe('latent factors (n_factors)'),
    epochs: z.number().int().min(1).max(10000).default(20).describe('SGD passes (n_epochs)'),
    learningRate: z.number().min(0).default(0.005).describe('learning rate of every term (lr_all)'),
    reg: z.number().min(0).default(0.02).describe('regularisation of every term (reg_all)'),
    ...PER_TERM_RATES,
    initMean: z.number().default(0).describe('mean of the normal factor initialisation'),
    initStd: z.number().min(0).default(0.1).describe('standard deviation of the factor initialisation'),
    biased: z.boolean().default(true).describe('use μ + b_u + b_i (false: plain PMF, r̂ = p_u·q_i)'),
    seed: z.number().int().default(42).describe('seed of the initialisation and the shuffles'),
    blocks: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(8)
      .describe('DSGD strata: users and items split into this many groups (independent of threads)'),
    shuffle: z.boolean().default(true).describe('shuffle each block every epoch (Surprise does not shuffle)'),
    kernel: z
      .enum(['auto', 'js'])
      .default('auto')
      .describe('auto: WebAssembly SIMD (float32 math) when factors % 4 = 0, else JS (float64 math)'),
  })
  .strict();
export type SvdParams = z.infer<typeof svdSchema>;

/** Resolves Surprise-style per-term learning rates and regularisation (a per-term value wins over learningRate / reg). */
export function resolveRates(p: SvdParams): SgdRates {
  return {
    lrBu: p.lrBu ?? p.learningRate,
    lrBi: p.lrBi ?? p.learningRate,
    lrPu: p.lrPu ?? p.learningRate,
    lrQi: p.lrQi ?? p.learningRate,
    regBu: p.regBu ?? p.reg,
    regBi: p.regBi ?? p.reg,
    regPu: p.regPu ?? p.reg,
    regQi: p.regQi ?? p.reg,
  };
}

/**
 * Shared part of the factor rating models (SVD, SVD++): r̂ = g + b_u + b_i + p_u·q_i with g = μ (or 0 when
 * unbiased), predictions clipped to the training rating range. Unknown users/items have zero bias and factors.
 */
export abstract class FactorRatingModel<P extends Params & { factors?: number }> extends BaseRecommender<P> {
  protected mean = 0;
  protected low = -Infinity;
  protected high = Infinity;
  protected userFactors = new Float32Array(0);
  protected itemFactors = new Float32Array(0);
  protected userBias = new Float64Array(0);
  protected itemBias = new Float64Array(0);

  /** Number of factors (the schema always supplies it). */
  protected get k(): number {
    return this.params.factors as number;
  }

  /** The constant term: μ, or 0 for an unbiased model. */
  protected get globalTerm(): number {
    return this.mean;
  }

  protected predictOne(user: number, item: number): number {
    const k = this.k;
    const knownU = user >= 0 && user < this.userBias.length;
    const knownI = item >= 0 && item < this.itemBias.length;
    let r = this.globalTerm;
    if (knownU) r += this.userBias[user]!;
    if (knownI) r += this.itemBias[item]!;
    if (knownU && knownI) {
      const P = this.userFactors;
      const Q = this.itemFactors;
      const pu = user * k;
      const qi = item * k;
      for (let f = 0; f < k; f++) r += P[pu + f]! * Q[qi + f]!;
    }
    return r < this.low ? this.low : r > this.high ? this.high : r;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const k = this.k;
    const P = this.userFactors;
    const Q = this.itemFactors;
    const base = this.globalTerm + this.userBias[user]!;
    const pu = user * k;
    for (let i = 0; i < out.length; i++) {
      let r = base + this.itemBias[i]!;
      const qi = i * k;
      for (let f = 0; f < k; f++) r += P[pu + f]! * Q[qi + f]!;
      out[i] = r;
    }
  }

  batchScorer(): FactorScorer {
    this.assertFitted();
    return {
      kind: 'factors',
      factors: this.k,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      userBias: Float32Array.from(this.userBias),
      itemBias: Float32Array.from(this.itemBias),
      globalBias: this.globalTerm,
    };
  }

  /** The fitted parameters (read-only views; for SVD++ the user factors include the implicit term). */
  get parameters(): {
    mean: number;
    userBias: Float64Array;
    itemBias: Float64Array;
    userFactors: Float32Array;
    itemFactors: Float32Array;
  } {
    return {
      mean: this.mean,
      userBias: this.userBias,
      itemBias: this.itemBias,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
    };
  }

  protected modelState(): ModelState {
    return {
      mean: this.mean,
      low: this.low,
      high: this.high,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      userBias: this.userBias,
      itemBias: this.itemBias,
    };
  }

  protected restoreModel(state: ModelState): void {
    this.mean = expectNumber(state, 'mean');
    this.low = expectNumber(state, 'low');
    this.high = expectNumber(state, 'high');
    this.userFactors = expectFloat32(state, 'userFactors');
    this.itemFactors = expectFloat32(state, 'itemFactors');
    this.userBias = expectFloat64(state, 'userBias');
    this.itemBias = expectFloat64(state, 'itemBias');
    const k = this.k;
    if (
      this.userFactors.length !== this.userBias.length * k ||
      this.itemFactors.length !== this.itemBias.length * k
    )
      throw new ConfigError('saved model', `${this.name}: factor arrays do not match factors=${k}`);
  }
}

/**
 * Biased matrix factorisation fitted by SGD, Surprise's SVD: r̂ = μ + b_u + b_i + q_i·p_u, the same update rule
 * and hyperparameter meanings (factors, epochs, learningRate (Surprise's lr_all), reg (reg_all), per-term overrides, initMean/initStd, biased).
 * Ratings are visited in DSGD strata (see lib/compute/sgd.ts) so that `threads: 2` gives the same factors as one
 * thread. Users/items without training ratings are unknown: their bias and factors are zero (μ + known terms),
 * and predictions are clipped to the training rating range, as in Surprise.
 */
export class SvdModel extends FactorRatingModel<SvdParams> {
  readonly name = 'svd';

  constructor(params: Partial<z.input<typeof svdSchema>> = {}) {
    super(svdSchema.parse(params));
  }

  protected override get globalTerm(): number {
    return this.params.biased ? this.mean : 0;
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const k = p.factors;
    const threads = options.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1))
      throw new ConfigError('threads', `must be a positive integer, got ${threads}`);
    const parallel = threads > 1;
    const B = p.blocks;
    // The SIMD kernel needs rows of a multiple of 4 floats: pad with zero columns, which stay exactly zero
    // (their gradient is zero), so the model is the same k-factor model; rows are compacted after training.
    const module = p.kernel === 'auto' ? await sgdKernelModule(Math.ceil(k / 4) * 4) : null;
    const stride = module ? Math.ceil(k / 4) * 4 : k;
    const arena = module
      ? new SgdArena(
          SgdArena.size(train.size * 4) * 3 +
            SgdArena.size(train.nUsers * stride * 4) +
            SgdArena.size(train.nItems * stride * 4) +
            SgdArena.size(train.nUsers * 8) +
            SgdArena.size(train.nItems * 8) +
            SgdArena.size(B * B * 8),
        )
      : null;
    const f32 = (n: number) =>
      arena
        ? arena.float32(n)
        : parallel
          ? new Float32Array(new SharedArrayBuffer(n * 4))
          : new Float32Array(n);
    const f64 = (n: number) =>
      arena
        ? arena.float64(n)
        : parallel
          ? new Float64Array(new SharedArrayBuffer(n * 8))
          : new Float64Array(n);
    const i32 = (n: number) =>
      arena ? arena.int32(n) : parallel ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);

    this.mean = train.mean();
    [this.low, this.high] = ratingRange(train.ratings);
    const rng = new Rng(p.seed);
    const userCounts = train.userCounts();
    const itemCounts = train.itemCounts();
    const userGroup = balancedGroups(userCounts, B, Rng.derive(p.seed, -1));
    const itemGroup = balancedGroups(itemCounts, B, Rng.derive(p.seed, -2));
    // Rows are stored group by group, so the threads of a stratum write disjoint memory ranges: with rows in
    // id order, neighbouring biases and row edges of different groups share cache lines and two threads ran
    // slower than one. The visiting order, hence every number, is the same as in id order.
    const userRows = groupedOrder(userGroup, B);
    const itemRows = groupedOrder(itemGroup, B);
    const pool = parallel ? workerPool(threads) : null;
    // P's draws then Q's, from one stream (as two fillNormal calls would draw them).
    const init = new Float32Array(new SharedArrayBuffer((train.nUsers + train.nItems) * k * 4));
    // The workers transform the normals while this thread lays out the blocks (which do not depend on them).
    const initDone = fillNormalParallel(rng, init, p.initMean, p.initStd, pool);
    const layout = blockLayout(
      mapIndices(train.users, userRows.row),
      mapIndices(train.items, itemRows.row),
      train.ratings,
      userRows.group,
      itemRows.group,
      B,
      { int32: i32, float32: f32 },
    );
    await initDone;
    const P = permuteRows(init.subarray(0, train.nUsers * k), k, stride, userRows.row, f32);
    const Q = permuteRows(init.subarray(train.nUsers * k), k, stride, itemRows.row, f32);
    // Rows without training ratings are never updated; zero makes them exactly "unknown" (as in Surprise).
    zeroUnknown(P, null, permuteCounts(userCounts, userRows.row), stride);
    zeroUnknown(Q, null, permuteCounts(itemCounts, itemRows.row), stride);
    const st: SgdState = {
      factors: stride,
      blocks: B,
      ...layout,
      userFactors: P,
      itemFactors: Q,
      userBias: f64(train.nUsers),
      itemBias: f64(train.nItems),
      blockSse: f64(B * B),
      mean: this.mean,
      biased: p.biased,
      shuffle: p.shuffle,
      seed: p.seed,
      rates: resolveRates(p),
      wasm: module && arena ? { module, memory: arena.memory } : null,
    };
    const publish = () => {
      this.userFactors = unpermuteRows(P, stride, k, userRows.row);
      this.itemFactors = unpermuteRows(Q, stride, k, itemRows.row);
      this.userBias = unpermuteValues(st.userBias, userRows.row);
      this.itemBias = unpermuteValues(st.itemBias, itemRows.row);
    };
    const task = { module: SGD_TASK_MODULE, fn: 'sgdEpochWorker' };
    // Without per-epoch reports or a stop signal, the workers run every epoch in one task (no round trips).
    const epochsPerTask = options.onEpoch || options.signal ? 1 : p.epochs;
    for (let epoch = 0; epoch < p.epochs; epoch += epochsPerTask) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      if (pool) {
        const control = epochControl(B, epochsPerTask);
        const payloads: SgdEpochTask[] = [];
        for (let t = 0; t < threads; t++)
          payloads.push({ state: st, firstEpoch: epoch, epochs: epochsPerTask, threads, control });
        await pool.map(task, payloads);
      } else for (let e = epoch; e < epoch + epochsPerTask; e++) sgdEpochSerial(st, e);
      if (options.onEpoch) {
        let sse = 0;
        for (let b = 0; b < B * B; b++) sse += st.blockSse[b]!;
        const seconds = (performance.now() - started) / 1000;
        publish();
        options.onEpoch({
          epoch: epoch + 1,
          epochs: p.epochs,
          seconds,
          loss: sse / train.size,
          trainRmse: this.rmseOn(train),
          validationRmse: options.validation ? this.rmseOn(options.validation) : undefined,
        });
      }
      if (options.signal) await new Promise((r) => setImmediate(r));
    }
    // own (non-shared, k-strided, id-ordered) copies for the fitted model
    publish();
  }
}

/** A storage order of rows by group: `row[id]` is the row of id (groups contiguous, ids ascending inside). */
function groupedOrder(groupOf: Int32Array, groups: number): { row: Int32Array; group: Int32Array } {
  const start = new Int32Array(groups + 1);
  for (let r = 0; r < groupOf.length; r++) start[groupOf[r]! + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const row = new Int32Array(groupOf.length);
  const group = new Int32Array(groupOf.length);
  for (let r = 0; r < groupOf.length; r++) {
    const at = start[groupOf[r]!]!++;
    row[r] = at;
    group[at] = groupOf[r]!;
  }
  return { row, group };
}

/** Rows of `from` columns in id order → rows of `to` columns (zero padded) in storage order. */
function permuteRows(
  a: Float32Array,
  from: number,
  to: number,
  row: Int32Array,
  alloc: (n: number) => Float32Array,
): Float32Array {
  const out = alloc(row.length * to);
  for (let r = 0; r < row.length; r++) out.set(a.subarray(r * from, (r + 1) * from), row[r]! * to);
  return out;
}

/** The inverse of `permuteRows`: storage order with `from` columns → id order with `to` columns, fresh memory. */
function unpermuteRows(a: Float32Array, from: number, to: number, row: Int32Array): Float32Array {
  const out = new Float32Array(row.length * to);
  for (let r = 0; r < row.length; r++) out.set(a.subarray(row[r]! * from, row[r]! * from + to), r * to);
  return out;
}

function unpermuteValues(a: Float64Array, row: Int32Array): Float64Array {
  const out = new Float64Array(row.length);
  for (let r = 0; r < row.length; r++) out[r] = a[row[r]!]!;
  return out;
}

function permuteCounts(counts: Int32Array, row: Int32Array): Int32Array {
  const out = new Int32Array(counts.length);
  for (let r = 0; r < row.length; r++) out[row[r]!] = counts[r]!;
  return out;
}

function mapIndices(ids: Int32Array, row: Int32Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let n = 0; n < ids.length; n++) out[n] = row[ids[n]!]!;
  return out;
}

/** Zeroes the factors (and bias) of rows without training ratings. */
export function zeroUnknown(
  factors: Float32Array,
  bias: Float64Array | null,
  counts: Int32Array,
  k: number,
): void {
  for (let r = 0; r < counts.length; r++) {
    if (counts[r] !== 0) continue;
    if (bias) bias[r] = 0;
    factors.fill(0, r * k, (r + 1) * k);
  }
}

export function expectFloat64(state: ModelState, key: string): Float64Array {
  const v = state[key];
  if (!(v instanceof Float64Array))
    throw new ConfigError('saved model', `"${key}" is missing or not a Float64Array`);
  return v;
}
