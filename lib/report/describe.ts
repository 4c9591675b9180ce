import type { ExperimentConfig } from '../config/schema';
import { parseSplitSpec } from '../data/split';

/** A sentence on what the test splits are. */
export function describeSplit(c: ExperimentConfig): string {
  if (c.splitKind === 'crossValidation')
    return `${c.splits.length}-fold cross-validation over all ratings (seeded permutation; each rating in exactly one test fold)`;
  const kinds = new Set(c.splits.map((s) => parseSplitSpec(s).kind));
  if (kinds.size !== 1) return 'the splits listed';
  const spec = parseSplitSpec(c.splits[0]!);
  switch (spec.kind) {
    case 'grouplens':
      return c.splits.length === 5 && c.splits.every((s, i) => s === `u${i + 1}`)
        ? 'the GroupLens five-fold cross-validation files u1…u5 (uN.base / uN.test)'
        : 'GroupLens fold files (uN.base / uN.test)';
    case 'random':
      return `a seeded random holdout of ${spec.fraction * 100}% of the ratings`;
    case 'kfold':
      return `seeded k-fold folds (k = ${spec.k})`;
    case 'temporal-user':
      return `per user, the latest ${spec.fraction * 100}% of their ratings by timestamp are held out (ties by movie id; every user keeps a training rating)`;
    case 'temporal-user-last':
      return `per user, the latest ${spec.n} rating(s) are held out`;
    case 'leave-last-out':
      return 'per user, the latest rating is held out';
    case 'global-time':
      return `ratings at or after ${spec.iso} are held out`;
  }
}
