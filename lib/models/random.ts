import { z } from 'zod';
import type { Interactions } from '../data/interactions';
import { Rng } from '../util/rng';
import { BaseRecommender } from './base';
import type { FitOptions, ModelState } from './recommender';

export const randomSchema = z
  .object({
    seed: z
      .number()
      .int()
      .default(42)
      .describe('the same seed gives every user the same random ranking again'),
  })
  .strict();
export type RandomParams = z.infer<typeof randomSchema>;

/**
 * Reference ranker: a random order of the items per user. Scores come from `Rng.derive(seed, user)`, so a user's
 * ranking is reproducible and does not depend on which other users were scored before.
 */
export class RandomModel extends BaseRecommender<RandomParams> {
  readonly name = 'random';

  constructor(params: Partial<RandomParams> = {}) {
    super(randomSchema.parse(params));
  }

  protected async train(_train: Interactions, options: FitOptions): Promise<void> {
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: 0 });
  }

  private cachedUser = -1;
  private cached = new Float32Array(0);

  protected predictOne(user: number, item: number): number {
    if (!(item >= 0 && item < this.nItems)) return 0;
    // Pairs usually come grouped by user: keep the last user's scores.
    if (user !== this.cachedUser || this.cached.length !== this.nItems) {
      this.cached = new Float32Array(this.nItems);
      this.scoreAll(user, this.cached);
      this.cachedUser = user;
    }
    return this.cached[item]!;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const rng = Rng.derive(this.params.seed, user);
    for (let i = 0; i < out.length; i++) out[i] = rng.next();
  }

  protected modelState(): ModelState {
    return {};
  }

  protected restoreModel(_state: ModelState): void {}
}
