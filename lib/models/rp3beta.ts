import { z } from 'zod';
import { rp3betaWeights } from '../compute/rp3beta';
import { fromCompressed, transpose } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { binarize } from '../features/weighting';
import { alignedValues } from './ease';
import { resolveThreads } from './ials';
import { ItemWeightsModel } from './item-weights-model';
import type { FitOptions } from './recommender';

export const rp3betaSchema = z
  .object({
    alpha: z
      .number()
      .min(0)
      .default(1)
      .describe('exponent α of the transition probabilities P_ui = 1/deg(u), P_iu = 1/deg(i)'),
    beta: z
      .number()
      .min(0)
      .default(0.5)
      .describe('popularity discount: weights into item j are divided by pop(j)^β (0 gives P³α)'),
    topK: z.number().int().min(1).max(100000).default(100).describe('neighbours kept per item (row of W)'),
    normalize: z.boolean().default(false).describe('divide each kept row of W by its sum (l1)'),
    threshold: z
      .number()
      .min(0)
      .default(0)
      .describe('interactions rated below this are not edges of the graph (0 keeps all)'),
  })
  .strict();
/** Declared explicitly (not z.infer) so that tslab's non-strict compile keeps the fields required. */
export type Rp3betaParams = {
  alpha: number;
  beta: number;
  topK: number;
  normalize: boolean;
  threshold: number;
};

/**
 * RP3β (Paudel et al. 2017, "Updatable, accurate, diverse, and scalable recommendations for interactive
 * applications"): item-item weights of a three-step random walk on the binary user-item graph, each step's
 * probability raised to α and divided by the arrival item's popularity to the β (lib/compute/rp3beta.ts), the
 * topK per item; score(u, ·) = x_u · W with x_u the user's binary interactions.
 */
export class Rp3betaModel extends ItemWeightsModel<Rp3betaParams> {
  readonly name = 'rp3beta';

  constructor(params: Partial<Rp3betaParams> = {}) {
    super(rp3betaSchema.parse(params) as Rp3betaParams);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const p = this.params;
    const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
    const x = binarize(full, p.threshold);
    const w = await rp3betaWeights(x, transpose(x), {
      alpha: p.alpha,
      beta: p.beta,
      topK: p.topK,
      normalize: p.normalize,
      threads: resolveThreads(options.threads),
    });
    this.setWeights(w, alignedValues(full, x), train.nItems);
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }
}
