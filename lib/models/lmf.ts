import { z } from 'zod';
import { sharedFloat32, workerPool } from '../compute/pool';
import { transpose } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { checkFinite, FactorRowsModel } from './factor-model';
import {
  confidenceShape,
  confidenceSpecOf,
  type LegacyParams,
  resolveThreads,
  userItemConfidence,
  withoutLegacyNames,
} from './ials';
import type { FitOptions } from './recommender';

export const lmfSchema = z
  .object({
    factors: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(30)
      .describe('latent dimensions (plus two bias columns)'),
    learningRate: z.number().positive().default(1).describe('AdaGrad base step'),
    reg: z.number().min(0).default(0.6).describe('L2 on the factors (implicit: regularization)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(30)
      .describe('passes, users then items (implicit: iterations)'),
    negatives: z.number().int().min(0).max(1000).default(30).describe('negatives sampled per positive'),
    maxNegatives: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("cap on negatives per row; 0 = implicit's effective cap, factors + 2"),
    seed: z.number().int().default(42),
    ...confidenceShape,
    confidence: confidenceShape.confidence.removeDefault().default('scaled'),
  })
  .strict();
export type LmfParams = z.infer<typeof lmfSchema>;

/** Rows per random-stream chunk: fixed, so results do not depend on the thread count. */
const CHUNK = 1024;

export interface LmfPayload {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** Rows being updated and their AdaGrad sums (rows × (k + 2)); the other side is read only. */
  x: Float32Array;
  sumSq: Float32Array;
  y: Float32Array;
  kk: number;
  /** Cap on negatives per row. */
  maxNegatives: number;
  learningRate: number;
  regularization: number;
  negProp: number;
  chunks: number[];
  seed: number;
  streamBase: number;
}

/**
 * Worker task: one AdaGrad ascent step of the LMF log-likelihood for every row of the given chunks (implicit's
 * `lmf_update`): ∇ = Σ_i c·y_i − Σ_i c·σ(x·y_i)·y_i − Σ_neg σ(x·y_j)·y_j − λx, negatives drawn as the
 * column of a random stored entry (so by popularity), min(maxNegatives, n_u·negProp) of them.
 */
export function lmfChunksTask(p: LmfPayload): void {
  const { indptr, indices, values, x, sumSq, y, kk, learningRate: lr, regularization: reg } = p;
  const nRows = indptr.length - 1;
  const nnz = indptr[nRows]!;
  const deriv = new Float64Array(kk);
  for (const chunk of p.chunks) {
    const rng = Rng.derive(p.seed, p.streamBase + chunk);
    const end = Math.min(nRows, (chunk + 1) * CHUNK);
    for (let u = chunk * CHUNK; u < end; u++) {
      const from = indptr[u]!;
      const to = indptr[u + 1]!;
      if (from === to) continue;
      const xb = u * kk;
      deriv.fill(0);
      for (let q = from; q < to; q++) {
        const c = values[q]!;
        const yb = indices[q]! * kk;
        let s = 0;
        for (let f = 0; f < kk; f++) s += x[xb + f]! * y[yb + f]!;
        const w = c - c * sigmoid(s);
        for (let f = 0; f < kk; f++) deriv[f]! += w * y[yb + f]!;
      }
      const negatives = Math.min(p.maxNegatives, (to - from) * p.negProp);
      for (let n = 0; n < negatives; n++) {
        const yb = indices[rng.int(nnz)]! * kk;
        let s = 0;
        for (let f = 0; f < kk; f++) s += x[xb + f]! * y[yb + f]!;
        const z = sigmoid(s);
        for (let f = 0; f < kk; f++) deriv[f]! -= z * y[yb + f]!;
      }
      for (let f = 0; f < kk; f++) {
        const d = deriv[f]! - reg * x[xb + f]!;
        const acc = sumSq[xb + f]! + d * d;
        sumSq[xb + f] = acc;
        x[xb + f] = x[xb + f]! + (lr / Math.sqrt(1e-6 + acc)) * d;
      }
    }
  }
}

function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/**
 * Logistic matrix factorisation (Johnson 2014) with implicit's semantics: AdaGrad, user and item bias
 * columns (user column k is 1 against the item bias, item column k+1 is 1 against the user bias), popularity
 * negatives. Note implicit 0.7 caps the negatives per row at factors + 2 (it takes `min(n_items, n_u·neg_prop)`
 * with n_items read from the factor matrix's second dimension); `maxNegatives = 0` keeps that behaviour, which
 * is also what ranks well here (a cap of n_u·30 drowns the positives: NDCG@10 on ml-100k fell from ~0.13 to 0.04).
 */
export class LmfModel extends FactorRowsModel<LmfParams> {
  protected get rowWidth(): number {
    return this.params.factors + 2;
  }

  readonly name = 'lmf';

  constructor(params: Partial<LmfParams> & LegacyParams = {}) {
    super(lmfSchema.parse(withoutLegacyNames(params)));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const threads = resolveThreads(options.threads);
    const k = p.factors;
    const kk = k + 2;
    const cui = userItemConfidence(train, confidenceSpecOf(p));
    const ciu = transpose(cui, 'shared');
    const nUsers = train.nUsers;
    const nItems = train.nItems;
    const x = sharedFloat32(nUsers * kk);
    const y = sharedFloat32(nItems * kk);
    const rng = new Rng(p.seed);
    for (let i = 0; i < nItems; i++) {
      const active = ciu.indptr[i + 1]! > ciu.indptr[i]!;
      for (let f = 0; f < kk; f++) y[i * kk + f] = active ? (f === k + 1 ? 1 : rng.normal()) : 0;
    }
    for (let u = 0; u < nUsers; u++) {
      const active = cui.indptr[u + 1]! > cui.indptr[u]!;
      for (let f = 0; f < kk; f++) x[u * kk + f] = active ? (f === k ? 1 : rng.normal()) : 0;
    }
    const userSq = sharedFloat32(nUsers * kk);
    const itemSq = sharedFloat32(nItems * kk);
    this.userFactors = x;
    this.itemFactors = y;
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      const cap = p.maxNegatives > 0 ? p.maxNegatives : kk;
      const common = {
        kk,
        maxNegatives: cap,
        learningRate: p.learningRate,
        regularization: p.reg,
        negProp: p.negatives,
        seed: p.seed,
      };
      await runChunks(threads, {
        ...cui,
        x,
        sumSq: userSq,
        y,
        ...common,
        chunks: [],
        streamBase: (2 * epoch) << 20,
      });
      for (let u = 0; u < nUsers; u++) if (cui.indptr[u + 1]! > cui.indptr[u]!) x[u * kk + k] = 1;
      await runChunks(threads, {
        ...ciu,
        x: y,
        sumSq: itemSq,
        y: x,
        ...common,
        chunks: [],
        streamBase: (2 * epoch + 1) << 20,
      });
      for (let i = 0; i < nItems; i++) if (ciu.indptr[i + 1]! > ciu.indptr[i]!) y[i * kk + k + 1] = 1;
      options.onEpoch?.({ epoch, epochs: p.epochs, seconds: (performance.now() - started) / 1000 });
    }
    checkFinite(this.name, x, y);
  }

  /** Implicit fold-in with the model's own L2 weight and confidence scale. */
  protected override implicitFoldInWeights(): { reg: number; alpha: number } {
    return { reg: this.params.reg, alpha: this.params.alpha };
  }
}

/** Spreads the fixed row chunks round-robin over the threads (inline with one thread). */
async function runChunks(threads: number, payload: LmfPayload): Promise<void> {
  const nChunks = Math.ceil((payload.indptr.length - 1) / CHUNK);
  if (threads <= 1) {
    lmfChunksTask({ ...payload, chunks: Array.from({ length: nChunks }, (_, c) => c) });
    return;
  }
  const groups = Array.from({ length: threads }, (_, t) =>
    Array.from({ length: nChunks }, (_, c) => c).filter((c) => c % threads === t),
  );
  await workerPool(threads).map(
    { module: __filename, fn: 'lmfChunksTask' },
    groups.map((chunks) => ({ ...payload, chunks })),
  );
}
