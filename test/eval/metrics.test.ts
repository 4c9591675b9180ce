import { describe, expect, it } from 'vitest';
import {
  auc,
  averagePrecisionAtK,
  catalogueCoverage,
  genreDistance,
  gradedNdcgAtK,
  hitRateAtK,
  hitsAtK,
  implicitPrecision,
  intraListDiversity,
  listMetric,
  MetricInputError,
  mae,
  ndcgAtK,
  novelty,
  popularityBias,
  popularityPercentiles,
  precisionAtK,
  type RankedLists,
  ratioMetric,
  recallAtK,
  reciprocalRankAtK,
  rmse,
} from '../../lib/eval/metrics';
import { Rng } from '../../lib/util/rng';

const i32 = (a: number[]) => Int32Array.from(a);
const L3 = Math.log2(3);
const L5 = Math.log2(5);

describe('single-user ranking metrics (hand-computed)', () => {
  // list best first; relevant = {1, 3, 8}: hits at positions 2 (item 3) and 4 (item 1)
  const list = i32([5, 3, 9, 1, 7]);
  const rel = i32([1, 3, 8]);

  it('precision, recall, hits at K = 3 and 5', () => {
    expect(hitsAtK(list, rel, 3)).toBe(1);
    expect(precisionAtK(list, rel, 3)).toBeCloseTo(1 / 3, 15);
    expect(recallAtK(list, rel, 3)).toBeCloseTo(1 / 3, 15);
    expect(precisionAtK(list, rel, 5)).toBeCloseTo(2 / 5, 15);
    expect(recallAtK(list, rel, 5)).toBeCloseTo(2 / 3, 15);
  });

  it('NDCG with binary gain: ideal DCG over min(K, |relevant|) positions', () => {
    expect(ndcgAtK(list, rel, 3)).toBeCloseTo(1 / L3 / (1 + 1 / L3 + 1 / 2), 15);
    expect(ndcgAtK(list, rel, 5)).toBeCloseTo((1 / L3 + 1 / L5) / (1 + 1 / L3 + 1 / 2), 15);
    // one relevant item: IDCG = 1
    expect(ndcgAtK(list, i32([9]), 5)).toBeCloseTo(1 / 2, 15);
  });

  it('NDCG with graded gain (linear, the held-out rating)', () => {
    const gains = [5, 4, 3]; // items 1, 3, 8
    expect(gradedNdcgAtK(list, rel, gains, 5)).toBeCloseTo((4 / L3 + 5 / L5) / (5 + 4 / L3 + 3 / 2), 15);
    // ideal order uses the largest gains first even if they are not in item order
    expect(gradedNdcgAtK(i32([8]), rel, gains, 1)).toBeCloseTo(3 / 5, 15);
    expect(() => gradedNdcgAtK(list, rel, [5, 0, 3], 5)).toThrow(MetricInputError);
  });

  it('AP@K is normalised by min(K, |relevant|); MRR@K and HR@K', () => {
    expect(averagePrecisionAtK(list, rel, 3)).toBeCloseTo(1 / 2 / 3, 15);
    expect(averagePrecisionAtK(list, rel, 5)).toBeCloseTo((1 / 2 + 2 / 4) / 3, 15);
    expect(averagePrecisionAtK(list, rel, 2)).toBeCloseTo(1 / 2 / 2, 15);
    expect(reciprocalRankAtK(list, rel, 5)).toBe(1 / 2);
    expect(reciprocalRankAtK(list, rel, 1)).toBe(0);
    expect(hitRateAtK(list, rel, 1)).toBe(0);
    expect(hitRateAtK(list, rel, 2)).toBe(1);
  });

  it('K larger than the list: missing positions are misses, precision keeps denominator K', () => {
    expect(precisionAtK(list, rel, 10)).toBeCloseTo(2 / 10, 15);
    expect(recallAtK(list, rel, 10)).toBeCloseTo(2 / 3, 15);
    expect(ndcgAtK(list, rel, 10)).toBeCloseTo(ndcgAtK(list, rel, 5), 15);
    expect(averagePrecisionAtK(list, rel, 10)).toBeCloseTo((1 / 2 + 2 / 4) / 3, 15);
    expect(ndcgAtK(i32([]), rel, 10)).toBe(0);
  });

  it('all relevant at the top gives 1', () => {
    const top = i32([8, 1, 3, 0]);
    expect(ndcgAtK(top, rel, 3)).toBeCloseTo(1, 15);
    expect(averagePrecisionAtK(top, rel, 4)).toBeCloseTo(1, 15);
    expect(ndcgAtK(top, rel, 2)).toBeCloseTo(1, 15);
  });

  it('users without relevant items, bad K and empty inputs raise, never NaN', () => {
    for (const f of [precisionAtK, recallAtK, ndcgAtK, averagePrecisionAtK, reciprocalRankAtK, hitRateAtK])
      expect(() => f(list, i32([]), 5)).toThrow(MetricInputError);
    expect(() => precisionAtK(list, rel, 0)).toThrow(/positive integer/);
    expect(() => ndcgAtK(list, rel, 2.5)).toThrow(/positive integer/);
    expect(() => rmse([], [])).toThrow(/empty/);
    expect(() => mae([1], [1, 2])).toThrow(MetricInputError);
  });
});

describe('AUC (Mann–Whitney, ties ½)', () => {
  it('hand-computed with ties', () => {
    // 0.5 vs {0.5, 0.1, 0.9} = ½ + 1 + 0; 0.9 vs {0.5, 0.1, 0.9} = 1 + 1 + ½ → 4 of 6
    expect(auc([0.5, 0.9], [0.5, 0.1, 0.9])).toBeCloseTo(4 / 6, 15);
    expect(auc([3], [1, 2])).toBe(1);
    expect(auc([1, 1], [1])).toBe(0.5);
    expect(auc([0], [1, 2, 3])).toBe(0);
  });
  it('matches the brute-force pair count on random scores', () => {
    const rng = new Rng(5);
    const r = () => rng.int(20) / 4; // many ties
    const pos = Array.from({ length: 37 }, r);
    const neg = Array.from({ length: 53 }, r);
    let wins = 0;
    for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
    expect(auc(pos, neg)).toBeCloseTo(wins / (37 * 53), 14);
  });
  it('needs both classes', () => {
    expect(() => auc([], [1])).toThrow(MetricInputError);
    expect(() => auc([1], [])).toThrow(MetricInputError);
    expect(() => auc([Number.NaN], [1])).toThrow(/NaN/);
  });
});

describe('batch metrics: per-user values, users without relevant items left out and counted', () => {
  // rows: user 0 → [2, 0, 1], user 3 → [4, 1] (short list), user 5 → [0, 1, 2]
  const lists: RankedLists = {
    users: i32([0, 3, 5]),
    k: 3,
    items: i32([2, 0, 1, 4, 1, -1, 0, 1, 2]),
    counts: i32([3, 2, 3]),
  };
  // relevant (indexed by user 0..5): user 0 → {0, 7}, user 3 → {4}, user 5 → none
  const relevant = {
    indptr: i32([0, 2, 2, 2, 3, 3, 3]),
    indices: i32([0, 7, 4]),
    gains: Float32Array.from([5, 4, 4]),
  };

  it('precision@2 per user and mean over users with relevant items', () => {
    const p = listMetric('precision@2', 'precision', 2, lists, relevant);
    expect(Array.from(p.users)).toEqual([0, 3]);
    expect(Array.from(p.values)).toEqual([1 / 2, 1 / 2]);
    expect(p.mean).toBe(0.5);
    expect(p.excluded).toBe(1);
  });

  it('ndcg@3 and recall@3 (user 0: hit at position 2 of 2 relevant; user 3: hit at 1)', () => {
    const n = listMetric('ndcg@3', 'ndcg', 3, lists, relevant);
    expect(n.values[0]).toBeCloseTo(1 / L3 / (1 + 1 / L3), 15);
    expect(n.values[1]).toBe(1);
    const r = listMetric('recall@3', 'recall', 3, lists, relevant);
    expect(Array.from(r.values)).toEqual([1 / 2, 1]);
  });

  it("implicit's precision is Σ hits / Σ min(K, |relevant|)", () => {
    expect(implicitPrecision(3, lists, relevant)).toBeCloseTo((1 + 1) / (2 + 1), 15);
  });

  it('K above the computed list length, no users and no relevant users raise', () => {
    expect(() => listMetric('ndcg@5', 'ndcg', 5, lists, relevant)).toThrow(/fewer than K/);
    const none: RankedLists = { users: i32([]), k: 3, items: i32([]), counts: i32([]) };
    expect(() => listMetric('ndcg@3', 'ndcg', 3, none, relevant)).toThrow(/empty/);
    const onlyUser5: RankedLists = { users: i32([5]), k: 3, items: i32([0, 1, 2]), counts: i32([3]) };
    expect(() => listMetric('ndcg@3', 'ndcg', 3, onlyUser5, relevant)).toThrow(/none of the 1 users/);
  });

  it('ratio metrics exclude rows with no denominator', () => {
    const m = ratioMetric('auc', i32([1, 2, 3]), Float64Array.from([3, 0, 1]), Float64Array.from([4, 0, 2]));
    expect(Array.from(m.values)).toEqual([0.75, 0.5]);
    expect(m.excluded).toBe(1);
    expect(() => ratioMetric('auc', i32([1]), Float64Array.from([0]), Float64Array.from([0]))).toThrow(
      MetricInputError,
    );
  });
});

describe('beyond accuracy', () => {
  const lists: RankedLists = {
    users: i32([0, 1]),
    k: 2,
    items: i32([0, 1, 2, 3]),
    counts: i32([2, 2]),
  };

  it('coverage counts distinct items in the first K over the catalogue', () => {
    expect(catalogueCoverage(lists, 5, 2)).toBe(4 / 5);
    expect(catalogueCoverage(lists, 5, 1)).toBe(2 / 5);
    expect(() => catalogueCoverage(lists, 0, 1)).toThrow(MetricInputError);
  });

  it('novelty is the mean self-information, unseen items counted as one user', () => {
    // 4 training users; item users [4, 2, 1, 0] → −log2 p = [0, 1, 2, 2]
    const n = novelty(lists, i32([4, 2, 1, 0]), 4, 2);
    expect(Array.from(n.values)).toEqual([0.5, 2]);
    expect(n.mean).toBe(1.25);
  });

  it('popularity percentiles use mid-ranks; popularity bias averages them', () => {
    expect(Array.from(popularityPercentiles(i32([4, 2, 1, 0])))).toEqual([0.875, 0.625, 0.375, 0.125]);
    const tied = popularityPercentiles(i32([2, 2, 0]));
    expect(tied[0]).toBeCloseTo(2 / 3, 15);
    expect(tied[1]).toBeCloseTo(2 / 3, 15);
    expect(tied[2]).toBeCloseTo(1 / 6, 15);
    const b = popularityBias(lists, i32([4, 2, 1, 0]), 2);
    expect(Array.from(b.values)).toEqual([0.75, 0.25]);
  });

  it('intra-list diversity: mean 1 − Jaccard over pairs; lists under 2 items left out', () => {
    // genres (a catalogue's genre CSR by row; item i is row i, item 4 has no row): 0 → {0,1}, 1 → {1},
    // 2 → {2}, 3 → {}, 4 → {}
    const genres = {
      genreIndptr: i32([0, 2, 3, 4, 4]),
      genreIndices: i32([1, 0, 1, 2]),
      rowOfItem: i32([0, 1, 2, 3, -1]),
    };
    expect(genreDistance(genres, 0, 1)).toBe(0.5);
    expect(genreDistance(genres, 0, 2)).toBe(1);
    expect(genreDistance(genres, 3, 4)).toBe(0);
    expect(genreDistance(genres, 0, 3)).toBe(1);
    const l: RankedLists = {
      users: i32([0, 1]),
      k: 3,
      items: i32([0, 1, 2, 3, -1, -1]),
      counts: i32([3, 1]),
    };
    const d = intraListDiversity(l, genres, 3);
    expect(Array.from(d.users)).toEqual([0]);
    expect(d.values[0]).toBeCloseTo((0.5 + 1 + 1) / 3, 15);
    expect(d.excluded).toBe(1);
  });
});
