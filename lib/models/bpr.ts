import { z } from 'zod';
import { BprStrata, bprEpoch } from '../compute/bpr';
import { bprKernelModule } from '../compute/bpr-wasm';
import { WasmArena } from '../compute/ials-wasm';
import { sharedFloat32, toShared } from '../compute/pool';
import { fromCompressed } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { dropBelow } from '../features/weighting';
import { ConfigError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { checkFinite, FactorRowsModel } from './factor-model';
import { type LegacyParams, resolveThreads, withoutLegacyNames } from './ials';
import type { FitOptions } from './recommender';

export const bprSchema = z
  .object({
    factors: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(64)
      .describe('latent dimensions (plus an item-bias column)'),
    learningRate: z.number().positive().default(0.01).describe('SGD step'),
    reg: z
      .number()
      .min(0)
      .default(0.01)
      .describe('L2 on the factors touched by each update (implicit: regularization)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(100)
      .describe('passes of one sample per interaction (implicit: iterations)'),
    verifyNegative: z
      .boolean()
      .default(true)
      .describe(
        "check that a sampled negative is not one of the user's items (implicit's verify_negative_samples)",
      ),
    negativeRetries: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'redraws of a seen negative before the sample is skipped (0 = skip at once, as implicit does)',
      ),
    sampler: z
      .enum(['popularity', 'uniform'])
      .default('popularity')
      .describe(
        "'popularity': the item of a random interaction (implicit's sampler); 'uniform': a random item",
      ),
    threshold: z
      .number()
      .min(0)
      .default(0)
      .describe('interactions rated below this are dropped (0 keeps all)'),
    blocks: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe(
        'DSGD strata per side: parallelism up to this many threads; results depend on it, not on threads',
      ),
    kernel: z
      .enum(['auto', 'wasm', 'js'])
      .default('auto')
      .describe(
        "SGD kernel: WebAssembly SIMD (Float32) or plain JS (Float64 temporaries); 'auto' picks wasm when it can",
      ),
    seed: z.number().int().default(42),
  })
  .strict();
export type BprParams = z.infer<typeof bprSchema>;

/**
 * Bayesian Personalised Ranking matrix factorisation (Rendle et al. 2009) with implicit's update rule, item
 * bias column and initialisation; parallel and deterministic through DSGD strata (see lib/compute/bpr.ts).
 * Scores are x_u·y_i over k + 1 columns (the user's last column is 1, the item's is its bias).
 */
export class BprModel extends FactorRowsModel<BprParams> {
  protected get rowWidth(): number {
    return this.params.factors + 1;
  }

  readonly name = 'bpr';

  constructor(params: Partial<BprParams> & LegacyParams = {}) {
    super(bprSchema.parse(withoutLegacyNames(params)));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const threads = resolveThreads(options.threads);
    const k = p.factors;
    const kp = k + 1;
    const csr = keptRows(train, p.threshold);
    const nUsers = train.nUsers;
    const nItems = train.nItems;
    const nnz = csr.indices.length;
    const module = p.kernel === 'js' ? null : await bprKernelModule();
    if (p.kernel === 'wasm' && !module)
      throw new ConfigError('kernel', 'WebAssembly SIMD with shared memory is not available in this runtime');
    let indptr: Int32Array;
    let indices: Int32Array;
    let x: Float32Array;
    let y: Float32Array;
    let arena: WasmArena | null = null;
    if (module) {
      const size = WasmArena.size;
      const negatives = p.sampler === 'popularity' ? nnz : nItems;
      arena = new WasmArena(
        size(nUsers + 1) +
          3 * size(nnz) +
          size(negatives) +
          size(nUsers * kp) +
          size(nItems * kp) +
          size(2 * p.blocks),
      );
      indptr = arena.int32(nUsers + 1);
      indices = arena.int32(nnz);
      indptr.set(csr.indptr);
      indices.set(csr.indices);
      x = arena.float32(nUsers * kp);
      y = arena.float32(nItems * kp);
    } else {
      indptr = threads > 1 ? toShared(csr.indptr) : csr.indptr;
      indices = threads > 1 ? toShared(csr.indices) : csr.indices;
      x = sharedFloat32(nUsers * kp);
      y = sharedFloat32(nItems * kp);
    }
    const rng = new Rng(p.seed);
    const itemCount = new Int32Array(nItems);
    for (let q = 0; q < indices.length; q++) itemCount[indices[q]!]!++;
    for (let i = 0; i < nItems; i++) {
      for (let f = 0; f < kp; f++) {
        const v = (rng.next() - 0.5) / k;
        y[i * kp + f] = itemCount[i]! > 0 ? v : 0;
      }
    }
    for (let u = 0; u < nUsers; u++) {
      const active = indptr[u + 1]! > indptr[u]!;
      for (let f = 0; f < k; f++) {
        const v = (rng.next() - 0.5) / k;
        x[u * kp + f] = active ? v : 0;
      }
      rng.next(); // the bias column's draw, overwritten by 1 as in implicit
      x[u * kp + k] = 1;
    }
    this.userFactors = x;
    this.itemFactors = y;
    const strata = new BprStrata(
      { nUsers, nItems, indptr, indices, blocks: p.blocks, sampling: p.sampler },
      arena ? (length) => arena!.int32(length) : undefined,
    );
    const wasm = arena && module ? { module, memory: arena.memory, out: arena.int32(2 * p.blocks) } : null;
    const total = indptr[nUsers]!;
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      strata.build(Rng.derive(p.seed, 0x7fff0000 + epoch));
      const [correct, skipped] = await bprEpoch(strata, p.blocks, {
        x,
        y,
        k,
        indptr,
        indices,
        learningRate: p.learningRate,
        regularization: p.reg,
        verifyNegative: p.verifyNegative,
        negativeRetries: p.negativeRetries,
        seed: p.seed,
        epoch,
        threads,
        wasm,
      });
      const seconds = (performance.now() - started) / 1000;
      options.onEpoch?.({
        epoch,
        epochs: p.epochs,
        seconds,
        metrics: {
          trainAuc: total > skipped ? correct / (total - skipped) : 0,
          skipped: total > 0 ? skipped / total : 0,
        },
      });
    }
    checkFinite(this.name, x, y);
    if (arena) {
      // Keep the factors, not the WebAssembly memory with the strata.
      this.userFactors = sharedFloat32(x.length);
      this.userFactors.set(x);
      this.itemFactors = sharedFloat32(y.length);
      this.itemFactors.set(y);
    }
  }

  /** Implicit fold-in with the model's own L2 weight (BPR has no confidence scale: alpha 1). */
  protected override implicitFoldInWeights(): { reg: number; alpha: number } {
    return { reg: this.params.reg, alpha: 1 };
  }
}

/** The training CSR with interactions rated below `threshold` dropped (the same arrays when threshold is 0). */
export function keptRows(
  train: Interactions,
  threshold: number,
): { indptr: Int32Array; indices: Int32Array } {
  const m = dropBelow(fromCompressed(train.csr(), train.nUsers, train.nItems), threshold);
  return { indptr: m.indptr, indices: m.indices };
}
