import { z } from 'zod';
import { requireCatalogue } from '../data/catalogue';
import type { Interactions } from '../data/interactions';
import { ConfigError, ReelabError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { BaseRecommender, expectNumber } from './base';
import { Booster, type FeatureImportance, trainBooster } from './gbdt/booster';
import { FeatureContext, itemContent } from './gbdt/features';
import type { FitOptions, ModelState } from './recommender';

/*
 * Library survey (2026-11, npm): no maintained GBDT trainer for Node fits. ml-xgboost 1.1.2 is XGBoost ~0.7
 * compiled to wasm with its last change in 2018 and no importance API; decision-tree 1.0.0 grows ID3 trees over
 * arrays of row objects with lodash (no histograms, no second-order boosting); @tensorflow/tfjs-tfdf and
 * xgboost-scorer only run models trained elsewhere; ml-cart / ml-random-forest have no boosting. So
 * gbdt/booster.ts is a compact histogram GBDT (XGBoost's second-order gain, depth-wise growth, shrinkage,
 * row/column subsampling, seeded).
 */

export const gbdtSchema = z
  .object({
    rounds: z.number().int().min(1).max(10000).default(400).describe('boosting rounds (trees)'),
    learningRate: z.number().positive().max(1).default(0.05).describe('shrinkage of every tree'),
    maxDepth: z.number().int().min(1).max(16).default(6).describe('depth of each tree'),
    minChildWeight: z.number().min(0).default(20).describe('smallest hessian sum (rows) in a leaf'),
    reg: z.number().min(0).default(1).describe('L2 penalty on leaf values'),
    gamma: z.number().min(0).default(0).describe('smallest gain of a split'),
    subsample: z.number().gt(0).max(1).default(0.8).describe('rows per tree'),
    colsample: z.number().gt(0).max(1).default(0.8).describe('features per tree'),
    maxBins: z.number().int().min(2).max(255).default(64).describe('quantile bins per feature'),
    earlyStopping: z
      .number()
      .int()
      .min(0)
      .default(30)
      .describe('rounds without validation gain before stopping'),
    stackFraction: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.3)
      .describe(
        'share of training ratings the trees learn from (the rest feeds the CF scores and statistics)',
      ),
    refit: z
      .boolean()
      .default(true)
      .describe('recompute statistics and CF scores on all training ratings afterwards'),
    svdFactors: z
      .number()
      .int()
      .min(0)
      .max(1024)
      .default(50)
      .describe('factors of the SVD score feature (0: none)'),
    svdEpochs: z.number().int().min(1).max(1000).default(20).describe('SGD epochs of the SVD feature model'),
    seed: z.number().int().default(42).describe('seed of the stacking split, SVD and subsampling'),
  })
  .strict();
export type GbdtParams = z.infer<typeof gbdtSchema>;

/**
 * Seed 000's XGBoost role: gradient-boosted trees re-rank with user features (rating statistics, genre affinity),
 * movie features (statistics, year, genres) and CF scores (baseline, SVD) as inputs. Stacked: CF models and
 * statistics come from one part of the training ratings, the trees learn the rest; `refit` then recomputes the
 * inputs on all training ratings. Needs the movie catalogue (genres, year): `fit(train, { catalogue })`.
 */
export class GbdtModel extends BaseRecommender<GbdtParams> {
  readonly name = 'gbdt';
  private booster: Booster | null = null;
  private ctx: FeatureContext | null = null;
  private row = new Float32Array(0);
  private block = new Float32Array(0);

  constructor(params: Partial<z.input<typeof gbdtSchema>> = {}) {
    super(gbdtSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const catalogue = requireCatalogue(this.name, options.catalogue, 'movie genres and years');
    const content = itemContent(catalogue, train);
    const rng = Rng.derive(p.seed, 21);
    const perm = rng.permutation(train.size);
    const nStack = Math.round(train.size * p.stackFraction);
    if (nStack < 10 || train.size - nStack < 10)
      throw new ConfigError(
        'stackFraction',
        `leaves too few ratings on one side (${nStack} of ${train.size})`,
      );
    const cfPart = train.select(perm.slice(nStack).sort());
    const stackPart = train.select(perm.slice(0, nStack).sort());
    const cf = { svdFactors: p.svdFactors, svdEpochs: p.svdEpochs, seed: p.seed };
    const started = performance.now();
    let ctx = await FeatureContext.build(cfPart, content, cf);
    throwIfAborted(options.signal, 'gbdt training');

    // The trees' own early-stopping holdout: a tenth of the stacking part.
    const nValid = p.earlyStopping > 0 ? Math.max(1, Math.round(stackPart.size * 0.1)) : 0;
    const fit = this.featureSet(ctx, stackPart, nValid, stackPart.size);
    const valid = nValid > 0 ? this.featureSet(ctx, stackPart, 0, nValid) : undefined;
    const history: { round: number; train: number; valid?: number }[] = [];
    this.booster = trainBooster(
      fit,
      {
        objective: 'squared',
        rounds: p.rounds,
        learningRate: p.learningRate,
        maxDepth: p.maxDepth,
        minChildWeight: p.minChildWeight,
        lambda: p.reg,
        gamma: p.gamma,
        subsample: p.subsample,
        colsample: p.colsample,
        maxBins: p.maxBins,
        seed: p.seed,
        earlyStoppingRounds: p.earlyStopping,
      },
      valid,
      (r) => history.push({ round: r.round, train: r.trainLoss, valid: r.validationLoss }),
    );
    if (p.refit) ctx = await FeatureContext.build(train, content, cf);
    this.ctx = ctx;
    this.row = new Float32Array(ctx.width);
    const last = history[history.length - 1];
    const validationRmse = options.validation ? this.rmseOn(options.validation) : undefined;
    options.onEpoch?.({
      epoch: 1,
      epochs: 1,
      seconds: (performance.now() - started) / 1000,
      trainRmse: last?.train,
      validationRmse,
      metrics: {
        trees: this.booster.trees,
        ...(last?.valid !== undefined ? { stackValidationRmse: last.valid } : {}),
      },
    });
  }

  /** Features and ratings of rows [from, to) of `part` (the order `select` gave them). */
  private featureSet(ctx: FeatureContext, part: Interactions, from: number, to: number) {
    const n = to - from;
    const f = ctx.width;
    const x = new Float32Array(n * f);
    const y = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      ctx.fill(part.users[from + k]!, part.items[from + k]!, x, k * f);
      y[k] = part.ratings[from + k]!;
    }
    return { x, y, n, f };
  }

  protected predictOne(user: number, item: number): number {
    const ctx = this.ctx!;
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems))
      return clamp(ctx.baseline.mean, ctx);
    ctx.fill(user, item, this.row, 0);
    return clamp(this.booster!.margin(this.row), ctx);
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const ctx = this.ctx!;
    const f = ctx.width;
    if (this.block.length !== out.length * f) this.block = new Float32Array(out.length * f);
    for (let i = 0; i < out.length; i++) ctx.fill(user, i, this.block, i * f);
    for (let i = 0; i < out.length; i++) out[i] = this.booster!.margin(this.block, i * f);
  }

  /** Scores of the given candidate items for one user (re-ranking a shortlist from another model). */
  rerank(user: number, candidates: Int32Array): Float32Array {
    this.assertFitted();
    const out = new Float32Array(candidates.length);
    for (let k = 0; k < candidates.length; k++) out[k] = this.predictOne(user, candidates[k]!);
    return out;
  }

  featureNames(): string[] {
    this.assertFitted();
    return this.ctx!.names();
  }

  /** Gain, split count and cover per feature, most important first. */
  importance(): FeatureImportance[] {
    this.assertFitted();
    return this.booster!.importance(this.ctx!.names());
  }

  protected modelState(): ModelState {
    return { ...this.booster!.toState('trees.'), ...this.ctx!.toState('ctx.'), width: this.ctx!.width };
  }

  protected restoreModel(state: ModelState): void {
    const ctx = FeatureContext.fromState(state, 'ctx.', this.nUsers, this.nItems);
    const booster = Booster.fromState(state, 'trees.');
    if (booster.f !== ctx.width || expectNumber(state, 'width') !== ctx.width)
      throw new ReelabError(
        `saved model: trees use ${booster.f} features, the feature context has ${ctx.width}`,
      );
    this.ctx = ctx;
    this.booster = booster;
    this.row = new Float32Array(ctx.width);
  }
}

function clamp(x: number, ctx: FeatureContext): number {
  return x < ctx.low ? ctx.low : x > ctx.high ? ctx.high : x;
}
