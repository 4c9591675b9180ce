import { z } from 'zod';
import { type SvdppState, svdppEpoch, svdppScratch, svdppUserVectors } from '../compute/sgd-svdpp';
import type { Interactions } from '../data/interactions';
import { throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { expectFloat32 } from './base';
import { ratingRange } from './baseline';
import type { FitOptions, ModelState } from './recommender';
import { FactorRatingModel, PER_TERM_RATES, rate, zeroUnknown } from './svd';

export const svdppSchema = z
  .object({
    factors: z.number().int().min(1).max(1024).default(20).describe('latent factors (n_factors)'),
    epochs: z.number().int().min(1).max(10000).default(20).describe('SGD passes (n_epochs)'),
    learningRate: z.number().min(0).default(0.007).describe('learning rate of every term (lr_all)'),
    reg: z.number().min(0).default(0.02).describe('regularisation of every term (reg_all)'),
    ...PER_TERM_RATES,
    lrYj: rate('learning rate of implicit item factors y_j (overrides learningRate)'),
    regYj: rate('regularisation of implicit item factors y_j (overrides reg)'),
    initMean: z.number().default(0).describe('mean of the normal factor initialisation'),
    initStd: z.number().min(0).default(0.1).describe('standard deviation of the factor initialisation'),
    seed: z.number().int().default(42).describe('seed of the initialisation and the visiting order'),
    shuffle: z
      .boolean()
      .default(true)
      .describe('visit users and their ratings in a seeded random order each epoch (Surprise: file order)'),
  })
  .strict();
export type SvdppParams = z.infer<typeof svdppSchema>;

/**
 * SVD++ (Koren 2008) with Surprise's SVDpp semantics: r̂ = μ + b_u + b_i + q_i·(p_u + |I_u|^-½ Σ_{j∈I_u} y_j),
 * where I_u are the items u rated in training; the same per-rating SGD updates (see lib/compute/sgd-svdpp.ts
 * for how the y_j updates are applied in O(k) per rating). Single-threaded: y_j couples a user to all her items,
 * so the DSGD strata of SVD do not apply.
 */
export class SvdppModel extends FactorRatingModel<SvdppParams> {
  readonly name = 'svdpp';
  private rawUserFactors = new Float32Array(0);
  private implicitFactors = new Float32Array(0);

  constructor(params: Partial<z.input<typeof svdppSchema>> = {}) {
    super(svdppSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const k = p.factors;
    this.mean = train.mean();
    [this.low, this.high] = ratingRange(train.ratings);
    const rng = new Rng(p.seed);
    const P = new Float32Array(train.nUsers * k);
    const Q = new Float32Array(train.nItems * k);
    const Y = new Float32Array(train.nItems * k);
    rng.fillNormal(P, p.initMean, p.initStd);
    rng.fillNormal(Q, p.initMean, p.initStd);
    rng.fillNormal(Y, p.initMean, p.initStd);
    const userCounts = train.userCounts();
    const itemCounts = train.itemCounts();
    zeroUnknown(P, null, userCounts, k);
    zeroUnknown(Q, null, itemCounts, k);
    zeroUnknown(Y, null, itemCounts, k);
    const st: SvdppState = {
      factors: k,
      byUser: train.csr(),
      userFactors: P,
      itemFactors: Q,
      implicitFactors: Y,
      userBias: new Float64Array(train.nUsers),
      itemBias: new Float64Array(train.nItems),
      mean: this.mean,
      rates: {
        lrBu: p.lrBu ?? p.learningRate,
        lrBi: p.lrBi ?? p.learningRate,
        lrPu: p.lrPu ?? p.learningRate,
        lrQi: p.lrQi ?? p.learningRate,
        lrYj: p.lrYj ?? p.learningRate,
        regBu: p.regBu ?? p.reg,
        regBi: p.regBi ?? p.reg,
        regPu: p.regPu ?? p.reg,
        regQi: p.regQi ?? p.reg,
        regYj: p.regYj ?? p.reg,
      },
      shuffle: p.shuffle,
      seed: p.seed,
    };
    this.userBias = st.userBias;
    this.itemBias = st.itemBias;
    this.itemFactors = Q;
    this.rawUserFactors = P;
    this.implicitFactors = Y;
    const scratch = svdppScratch(k, st.byUser);
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      const sse = svdppEpoch(st, epoch, scratch);
      if (options.onEpoch) {
        this.userFactors = svdppUserVectors(st);
        options.onEpoch({
          epoch: epoch + 1,
          epochs: p.epochs,
          seconds: (performance.now() - started) / 1000,
          loss: sse / train.size,
          trainRmse: this.rmseOn(train),
          validationRmse: options.validation ? this.rmseOn(options.validation) : undefined,
        });
      }
      if (options.signal) await new Promise((r) => setImmediate(r));
    }
    this.userFactors = svdppUserVectors(st);
  }

  /** p_u and y_j as trained (the scoring user factors are p_u + |I_u|^-½ Σ y_j). */
  get implicit(): { userFactors: Float32Array; implicitFactors: Float32Array } {
    return { userFactors: this.rawUserFactors, implicitFactors: this.implicitFactors };
  }

  protected override modelState(): ModelState {
    return {
      ...super.modelState(),
      rawUserFactors: this.rawUserFactors,
      implicitFactors: this.implicitFactors,
    };
  }

  protected override restoreModel(state: ModelState): void {
    super.restoreModel(state);
    this.rawUserFactors = expectFloat32(state, 'rawUserFactors');
    this.implicitFactors = expectFloat32(state, 'implicitFactors');
  }
}
