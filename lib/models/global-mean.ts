import { z } from 'zod';
import type { Interactions } from '../data/interactions';
import { BaseRecommender, expectNumber } from './base';
import type { FitOptions, ModelState } from './recommender';

export const globalMeanSchema = z.object({}).strict();
export type GlobalMeanParams = z.infer<typeof globalMeanSchema>;

/** Predicts the training mean rating for every pair (Surprise's default prediction); the floor of the table. */
export class GlobalMeanModel extends BaseRecommender<GlobalMeanParams> {
  readonly name = 'global-mean';
  private mean = 0;

  constructor(params: Partial<GlobalMeanParams> = {}) {
    super(globalMeanSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    this.mean = train.mean();
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: 0 });
  }

  protected predictOne(): number {
    return this.mean;
  }

  scoreAll(_user: number, out: Float32Array): void {
    this.assertFitted();
    out.fill(this.mean);
  }

  protected modelState(): ModelState {
    return { mean: this.mean };
  }

  protected restoreModel(state: ModelState): void {
    this.mean = expectNumber(state, 'mean');
  }
}
