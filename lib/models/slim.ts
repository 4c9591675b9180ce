import { z } from 'zod';
import { assembleRows } from '../compute/item-weights';
import { type SlimStats, slimColumns } from '../compute/slim';
import { fromCompressed, transpose } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { binarize, dropBelow } from '../features/weighting';
import { alignedValues } from './ease';
import { resolveThreads } from './ials';
import { ItemWeightsModel } from './item-weights-model';
import type { FitOptions } from './recommender';

export const slimSchema = z
  .object({
    alpha: z
      .number()
      .min(0)
      .default(0.2)
      .describe(
        "regularisation strength (default: RecBole's SLIMElastic, not tuned here), scikit-learn ElasticNet's alpha: 1/(2·users)·‖x_j − Xw‖² + alpha·l1Ratio·‖w‖₁ + ½·alpha·(1 − l1Ratio)·‖w‖²",
      ),
    l1Ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0.02)
      .describe("share of the L1 penalty in alpha (scikit-learn's l1_ratio; 1 is the lasso)"),
    maxIter: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe("full coordinate-descent sweeps per item at most (scikit-learn's max_iter)"),
    tol: z
      .number()
      .positive()
      .default(1e-4)
      .describe("stop when the duality gap is below tol·‖x_j‖² (scikit-learn's tol)"),
    topK: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .default(100)
      .describe('largest weights kept per item column of W'),
    values: z.enum(['binary', 'rating']).default('binary').describe("X's entries: 1, or the rating"),
    threshold: z.number().min(0).default(0).describe('drop interactions rated below this (0 keeps all)'),
  })
  .strict();
/** Declared explicitly (not z.infer) so that tslab's non-strict compile keeps the fields required. */
export type SlimParams = {
  alpha: number;
  l1Ratio: number;
  maxIter: number;
  tol: number;
  topK: number;
  values: 'binary' | 'rating';
  threshold: number;
};

/**
 * SLIM (Ning & Karypis 2011, "SLIM: Sparse Linear Methods for Top-N Recommender Systems") with scikit-learn's
 * ElasticNet parametrisation (`positive=True, fit_intercept=False`): each column W[:, j] regresses x_j on the
 * other items' columns with w_jj = 0 and w ≥ 0, by coordinate descent (lib/compute/slim.ts), the items split
 * over worker threads (each column's solve is independent: the same W on any thread count); the topK largest
 * weights per column are kept. score(u, ·) = x_u · W.
 */
export class SlimModel extends ItemWeightsModel<SlimParams> {
  readonly name = 'slim';
  /** W by rows: row i lists (j, w_ij) — the items i predicts. */
  /** What the last fit's solves took. */
  fitStats: SlimStats | null = null;

  constructor(params: Partial<SlimParams> = {}) {
    super(slimSchema.parse(params) as SlimParams);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const p = this.params;
    const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
    const x = p.values === 'binary' ? binarize(full, p.threshold) : dropBelow(full, p.threshold);
    const { columns, stats } = await slimColumns(x, transpose(x), {
      alpha: p.alpha,
      l1Ratio: p.l1Ratio,
      maxIter: p.maxIter,
      tol: p.tol,
      topK: p.topK,
      threads: resolveThreads(options.threads),
    });
    // Rows of `byColumn` are W's columns; scoring wants W's rows.
    const byColumn = assembleRows(train.nItems, columns);
    this.setWeights(transpose(byColumn), alignedValues(full, x), train.nItems);
    this.fitStats = stats;
    options.onEpoch?.({
      epoch: 1,
      epochs: 1,
      seconds: (performance.now() - started) / 1000,
      metrics: { sweeps: stats.sweeps, unconverged: stats.unconverged },
    });
  }
}
