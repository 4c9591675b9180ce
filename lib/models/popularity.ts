import { z } from 'zod';
import type { Interactions } from '../data/interactions';
import { BaseRecommender, expectFloat32 } from './base';
import type { FitOptions, ModelState } from './recommender';

export const popularitySchema = z
  .object({
    threshold: z
      .number()
      .min(0)
      .default(0)
      .describe('count only interactions rated at least this (0 counts all)'),
  })
  .strict();
export type PopularityParams = z.infer<typeof popularitySchema>;

/** Reference ranker: items by number of training interactions (the same list for every user, minus seen items). */
export class PopularityModel extends BaseRecommender<PopularityParams> {
  readonly name = 'popularity';
  private counts = new Float32Array(0);

  constructor(params: Partial<PopularityParams> = {}) {
    super(popularitySchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const counts = new Float32Array(train.nItems);
    const t = this.params.threshold;
    for (let k = 0; k < train.size; k++) if (train.ratings[k]! >= t) counts[train.items[k]!]!++;
    this.counts = counts;
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: 0 });
  }

  protected predictOne(_user: number, item: number): number {
    return this.counts[item] ?? 0;
  }

  scoreAll(_user: number, out: Float32Array): void {
    this.assertFitted();
    out.set(this.counts.subarray(0, out.length));
  }

  /** Training interaction count of every item. */
  get itemCounts(): Float32Array {
    return this.counts;
  }

  protected modelState(): ModelState {
    return { counts: this.counts };
  }

  protected restoreModel(state: ModelState): void {
    this.counts = expectFloat32(state, 'counts');
  }
}
