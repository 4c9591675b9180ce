import { z } from 'zod';
import { alsLoss, gramOf, solveSide, solveSideWasm, type WasmAls, wasmAls } from '../compute/ials';
import { cgKernelModule } from '../compute/ials-wasm';
import { sharedFloat32 } from '../compute/pool';
import { fromCompressed, type SparseMatrix, transpose } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { type ConfidenceSpec, confidenceMatrix } from '../features/weighting';
import { ConfigError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { checkFinite, FactorRowsModel } from './factor-model';
import { type FoldedUser, type FoldInOptions, foldInImplicit } from './fold-in';
import type { FitOptions } from './recommender';

/** How interactions become confidences (shared by iALS and LMF); see lib/features/weighting.ts. */
export const confidenceShape = {
  values: z
    .enum(['binary', 'rating'])
    .default('binary')
    .describe("an interaction's raw value: 1, or its rating"),
  threshold: z.number().min(0).default(0).describe('drop interactions rated below this first (0 keeps all)'),
  confidence: z
    .enum(['linear', 'log', 'scaled'])
    .default('linear')
    .describe("c = 1 + alpha·v (Hu et al.), 1 + alpha·log(1 + v/eps), or alpha·v (implicit's scaling)"),
  alpha: z.number().min(0).default(1).describe('confidence scale'),
  eps: z.number().positive().default(1).describe("scale inside the log of confidence 'log'"),
};

export const ialsSchema = z
  .object({
    factors: z.number().int().min(1).max(1024).default(64).describe('latent dimensions'),
    reg: z.number().min(0).default(0.01).describe('λ on ‖x_u‖² and ‖y_i‖² (implicit: regularization)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(15)
      .describe('ALS sweeps, users then items (implicit: iterations)'),
    solver: z
      .enum(['cg', 'cholesky'])
      .default('cg')
      .describe('conjugate gradient (implicit) or exact Cholesky'),
    cgSteps: z.number().int().min(1).max(100).default(3).describe('CG steps per row and half-iteration'),
    kernel: z
      .enum(['auto', 'wasm', 'js'])
      .default('auto')
      .describe(
        "CG kernel: WebAssembly SIMD (Float32, factors divisible by 4) or plain JS (Float64 temporaries); 'auto' picks wasm when it can",
      ),
    computeLoss: z.boolean().default(false).describe('report the training objective after every iteration'),
    seed: z.number().int().default(42).describe('seed of the factor initialisation'),
    ...confidenceShape,
  })
  .strict();
export type IalsParams = z.infer<typeof ialsSchema>;

/**
 * Earlier reelab spellings that the model constructors still take (the registry maps every spelling in
 * PARAM_SPELLINGS): `iterations` → `epochs`, `regularization` → `reg`, `lambda` → `reg`.
 */
export interface LegacyParams {
  /** @deprecated use `epochs` */
  iterations?: number;
  /** @deprecated use `reg` */
  regularization?: number;
  /** @deprecated use `reg` */
  lambda?: number;
}

/** `params` with the legacy spellings renamed; a ConfigError when both spellings of one parameter are given. */
export function withoutLegacyNames<P extends object>(params: P & LegacyParams): Omit<P, keyof LegacyParams> {
  const { iterations, regularization, lambda, ...rest } = params;
  const out = { ...rest } as Record<string, unknown>;
  const legacy: Array<[string, string, number | undefined]> = [
    ['iterations', 'epochs', iterations],
    ['regularization', 'reg', regularization],
    ['lambda', 'reg', lambda],
  ];
  for (const [old, canonical, value] of legacy) {
    if (value === undefined) continue;
    if (out[canonical] !== undefined)
      throw new ConfigError(old, `"${old}" and "${canonical}" are spellings of one parameter; give it once`);
    out[canonical] = value;
  }
  return out as Omit<P, keyof LegacyParams>;
}

/** The weighting part of iALS / LMF parameters (schema defaults fill anything missing). */
export function confidenceSpecOf(p: Partial<ConfidenceSpec>): ConfidenceSpec {
  return {
    values: p.values ?? 'binary',
    threshold: p.threshold ?? 0,
    confidence: p.confidence ?? 'linear',
    alpha: p.alpha ?? 1,
    eps: p.eps ?? 1,
  };
}

/** Confidence matrix of the training data, users × items, in shared memory. */
export function userItemConfidence(train: Interactions, spec: ConfidenceSpec): SparseMatrix {
  return confidenceMatrix(fromCompressed(train.csr(), train.nUsers, train.nItems), spec, 'shared');
}

/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with implicit's conjugate-gradient solver (3 warm-started
 * CG steps per row, Takács et al. 2011) or exact Cholesky solves. Confidences come from
 * `lib/features/weighting.ts`; the factors are initialised uniform in [0, 0.01) like implicit's.
 */
export class IalsModel extends FactorRowsModel<IalsParams> {
  protected get rowWidth(): number {
    return this.params.factors;
  }

  readonly name = 'ials';
  /** Training objective after each iteration (when computeLoss or onEpoch asks for it). */
  readonly losses: number[] = [];

  constructor(params: Partial<IalsParams> & LegacyParams = {}) {
    super(ialsSchema.parse(withoutLegacyNames(params)));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const { factors: k, reg, epochs, solver, cgSteps, seed, kernel } = this.params;
    const threads = resolveThreads(options.threads);
    const useWasm = solver === 'cg' && kernel !== 'js' && k % 4 === 0;
    const module = useWasm ? await cgKernelModule() : null;
    if (kernel === 'wasm' && !module) {
      throw new ConfigError(
        'kernel',
        solver !== 'cg' || k % 4 !== 0
          ? 'the wasm kernel needs solver=cg and factors divisible by 4'
          : 'WebAssembly SIMD with shared memory is not available in this runtime',
      );
    }
    const spec = confidenceSpecOf(this.params);
    let cui: SparseMatrix;
    let ciu: SparseMatrix;
    let x: Float32Array;
    let y: Float32Array;
    let wasm: WasmAls | null = null;
    if (module) {
      const plain = confidenceMatrix(fromCompressed(train.csr(), train.nUsers, train.nItems), spec);
      wasm = wasmAls(module, plain, transpose(plain), k, threads);
      cui = { ...wasm.users, nRows: train.nUsers, nCols: train.nItems };
      ciu = { ...wasm.items, nRows: train.nItems, nCols: train.nUsers };
      x = wasm.x;
      y = wasm.y;
    } else {
      cui = userItemConfidence(train, spec);
      ciu = transpose(cui, 'shared');
      x = sharedFloat32(train.nUsers * k);
      y = sharedFloat32(train.nItems * k);
    }
    const rng = new Rng(seed);
    for (let e = 0; e < x.length; e++) x[e] = rng.next() * 0.01;
    for (let e = 0; e < y.length; e++) y[e] = rng.next() * 0.01;
    this.initialise?.(x, y);
    this.userFactors = x;
    this.itemFactors = y;
    this.losses.length = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      const yty = await gramOf(y, k, reg, threads);
      if (wasm) await solveSideWasm(wasm, 'users', yty, cgSteps, threads);
      else await solveSide({ ...cui, x, y, yty, k }, solver, cgSteps, threads);
      throwIfAborted(options.signal, `${this.name} training`);
      const xtx = await gramOf(x, k, reg, threads);
      if (wasm) await solveSideWasm(wasm, 'items', xtx, cgSteps, threads);
      else await solveSide({ ...ciu, x: y, y: x, yty: xtx, k }, solver, cgSteps, threads);
      const seconds = (performance.now() - started) / 1000;
      let loss: number | undefined;
      if (this.params.computeLoss) {
        loss = await alsLoss({ ...cui, x, y, yty: new Float64Array(0), k }, train.nItems, reg, threads);
        this.losses.push(loss);
      }
      options.onEpoch?.({ epoch, epochs, seconds, loss });
    }
    checkFinite(this.name, x, y);
    if (wasm) {
      // Keep the factors, not the whole WebAssembly memory with both confidence matrices.
      this.userFactors = sharedFloat32(x.length);
      this.userFactors.set(x);
      this.itemFactors = sharedFloat32(y.length);
      this.itemFactors.set(y);
    }
  }

  /** Hook for benchmarks that must start from given factors (e.g. the same start as a peer library). */
  initialise?: (userFactors: Float32Array, itemFactors: Float32Array) => void;

  /**
   * The new user's row of the ALS user step: confidences from the model's own weighting (values, threshold,
   * confidence, alpha), solved exactly against the fixed item factors with the model's `reg`.
   */
  protected override foldInProfile(
    items: Int32Array,
    ratings: Float32Array,
    options: FoldInOptions,
  ): FoldedUser {
    const scorer = this.batchScorer();
    const spec = {
      ...confidenceSpecOf(this.params),
      ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
    };
    const reg = options.reg ?? this.params.reg;
    if (spec.values === 'binary' && spec.confidence === 'linear' && spec.threshold === 0)
      return foldInImplicit(scorer, items, { reg, alpha: spec.alpha });
    const row = confidenceMatrix(
      {
        indptr: Int32Array.of(0, items.length),
        indices: items,
        values: ratings,
        nRows: 1,
        nCols: this.nItems,
      },
      spec,
    );
    return foldInImplicit(scorer, row.indices, { reg, alpha: spec.alpha, confidences: row.values });
  }
}

/** Threads for training: FitOptions.threads, default 1. */
export function resolveThreads(threads: number | undefined): number {
  const t = threads ?? 1;
  if (!(Number.isInteger(t) && t >= 1))
    throw new ConfigError('threads', `must be a positive integer, got ${t}`);
  return t;
}
