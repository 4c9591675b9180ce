/**
 * A portable description of how a model scores items, made of plain typed arrays so that evaluation and
 * batch recommendation can score blocks of users in worker threads (SharedArrayBuffer-backed where possible):
 * score(u, i) = globalBias + userBias[u] + itemBias[i] + userFactors[u]·itemFactors[i].
 */
export interface FactorScorer {
  kind: 'factors';
  factors: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias?: Float32Array | null;
  itemBias?: Float32Array | null;
  globalBias?: number;
}

/** What the ranking kernels need of a model: every item's score for a user, and the factor form when it has one. */
export interface ItemScorer {
  scoreAll(user: number, out: Float32Array): void;
  batchScorer?(): FactorScorer | null;
}
