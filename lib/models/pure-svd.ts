import { z } from 'zod';
import { randomizedSvd } from '../compute/rsvd';
import type { Interactions } from '../data/interactions';
import { ConfigError, throwIfAborted } from '../util/errors';
import { BaseRecommender, expectFloat32 } from './base';
import type { FactorScorer, FitOptions, ModelState } from './recommender';

export const pureSvdSchema = z
  .object({
    factors: z.number().int().min(1).max(2048).default(50).describe('rank of the truncated SVD'),
    oversamples: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(10)
      .describe('extra sketch columns (n_oversamples)'),
    powerIterations: z.number().int().min(0).max(100).default(5).describe('power iterations (n_iter)'),
    seed: z.number().int().default(42).describe('seed of the random sketch'),
  })
  .strict();
export type PureSvdParams = z.infer<typeof pureSvdSchema>;

/**
 * PureSVD (Cremonesi, Koren & Turrin 2010; computed like sklearn's TruncatedSVD): the rank-k truncated SVD
 * R ≈ U Σ Vᵀ of the user × item rating matrix with missing entries as zeros, computed by randomized SVD.
 * score(u, i) = (U Σ)_u · V_i = r_u V Vᵀ e_i. A ranking model: scores are not ratings.
 */
export class PureSvdModel extends BaseRecommender<PureSvdParams> {
  readonly name = 'pure-svd';
  private userFactors = new Float32Array(0);
  private itemFactors = new Float32Array(0);
  private singularValues = new Float32Array(0);
  private rank = 0;

  constructor(params: Partial<z.input<typeof pureSvdSchema>> = {}) {
    super(pureSvdSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    throwIfAborted(options.signal, `${this.name} training`);
    const started = performance.now();
    const p = this.params;
    const svd = randomizedSvd(train.csr(), train.nUsers, train.nItems, p.factors, {
      oversamples: p.oversamples,
      powerIterations: p.powerIterations,
      seed: p.seed,
    });
    const k = svd.k;
    this.rank = k;
    this.userFactors = new Float32Array(train.nUsers * k);
    for (let r = 0; r < train.nUsers; r++)
      for (let j = 0; j < k; j++) this.userFactors[r * k + j] = svd.u[r * k + j]! * svd.s[j]!;
    this.itemFactors = Float32Array.from(svd.v);
    this.singularValues = Float32Array.from(svd.s);
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }

  /** Singular values, descending. */
  get spectrum(): Float32Array {
    return this.singularValues;
  }

  protected predictOne(user: number, item: number): number {
    const k = this.rank;
    if (!(user >= 0 && item >= 0 && user * k < this.userFactors.length && item * k < this.itemFactors.length))
      return 0;
    let s = 0;
    for (let f = 0; f < k; f++) s += this.userFactors[user * k + f]! * this.itemFactors[item * k + f]!;
    return s;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    for (let i = 0; i < out.length; i++) out[i] = this.predictOne(user, i);
  }

  batchScorer(): FactorScorer {
    this.assertFitted();
    return {
      kind: 'factors',
      factors: this.rank,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
    };
  }

  protected modelState(): ModelState {
    return {
      rank: this.rank,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      singularValues: this.singularValues,
    };
  }

  protected restoreModel(state: ModelState): void {
    const rank = state.rank;
    if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1)
      throw new ConfigError('saved model', 'pure-svd: "rank" is missing or invalid');
    this.rank = rank;
    this.userFactors = expectFloat32(state, 'userFactors');
    this.itemFactors = expectFloat32(state, 'itemFactors');
    this.singularValues = expectFloat32(state, 'singularValues');
  }
}
