import { describe, expect, it } from 'vitest';
import { betaI, gammaQ, lnGamma, normalSf, studentTTwoSided } from '../../lib/eval/distributions';
import { MetricInputError } from '../../lib/eval/metrics';
import { compareModels, pairedTTest, wilcoxonSignedRank } from '../../lib/eval/significance';

// Expected values: SciPy 1.17.1 (scipy.stats.ttest_rel; scipy.stats.wilcoxon with correction=True, which is
// reelab's default, and with SciPy's default correction=False), printed by
// `.venv/bin/python bench/py/ranking_significance_expected.py` (the same arrays are defined there).
const SMALL = {
  a: [0.31, 0.52, 0.12, 0.77, 0.45, 0.6, 0.21, 0.9, 0.35, 0.48],
  b: [0.25, 0.4, 0.2, 0.7, 0.3, 0.66, 0.05, 0.71, 0.36, 0.28],
};
const TIES = { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], b: [0, 2, 1, 5, 3, 6, 8, 6, 7, 8] };
// 80 pairs with 2-decimal values (many tied |differences|, several zeros)
const LARGE = {
  a: [
    0.63, 0.9, 0.78, 0.23, 0.3, 0.87, 0.01, 0.82, 0.8, 0.47, 0.3, 0.28, 0.25, 0.45, 0.5, 0.55, 1.0, 0.79,
    0.62, 0.99, 0.22, 0.16, 0.61, 0.04, 0.04, 0.51, 0.47, 0.92, 0.63, 0.51, 0.5, 0.25, 0.01, 0.19, 0.69, 0.2,
    0.37, 0.0, 0.83, 0.15, 0.27, 0.88, 0.51, 0.85, 0.64, 0.74, 0.09, 0.54, 0.51, 0.87, 0.36, 0.6, 0.06, 0.39,
    0.32, 0.15, 0.82, 0.38, 0.98, 0.59, 0.61, 0.64, 0.68, 0.15, 0.44, 0.24, 0.4, 0.1, 0.97, 0.22, 0.67, 0.3,
    0.87, 0.66, 0.13, 0.85, 0.94, 0.9, 0.57, 0.15,
  ],
  b: [
    0.52, 0.94, 0.74, 0.12, 0.33, 0.85, -0.03, 0.75, 0.73, 0.37, 0.16, 0.31, 0.19, 0.41, 0.41, 0.55, 0.86,
    0.71, 0.48, 0.86, 0.26, 0.14, 0.55, -0.01, 0.06, 0.43, 0.44, 0.91, 0.55, 0.46, 0.5, 0.28, -0.11, 0.23,
    0.54, 0.2, 0.38, -0.12, 0.76, 0.16, 0.12, 0.86, 0.52, 0.8, 0.64, 0.64, -0.02, 0.46, 0.4, 0.79, 0.4, 0.56,
    -0.02, 0.29, 0.36, 0.09, 0.87, 0.33, 0.93, 0.62, 0.61, 0.61, 0.62, 0.18, 0.37, 0.27, 0.26, 0.04, 0.92,
    0.26, 0.57, 0.31, 0.86, 0.65, 0.11, 0.89, 0.86, 0.83, 0.46, 0.01,
  ],
};

const rel = (x: number, expected: number, tol = 1e-9) =>
  expect(Math.abs(x - expected) / Math.abs(expected)).toBeLessThan(tol);

describe('special functions', () => {
  it('match known values', () => {
    rel(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
    rel(lnGamma(10), Math.log(362880), 1e-13);
    rel(normalSf(1.959963984540054), 0.025, 1e-12);
    rel(normalSf(6), 9.865876450376946e-10, 1e-10); // scipy.stats.norm.sf(6)
    expect(normalSf(0)).toBeCloseTo(0.5, 15);
    rel(gammaQ(1, 2), Math.exp(-2), 1e-13);
    rel(betaI(2, 3, 0.4), 0.5248, 1e-12); // I_0.4(2,3) = 1 − (0.6^4 + 4·0.4·0.6^3)
    rel(studentTTwoSided(2.228138851986274, 10), 0.05, 1e-9); // t_{0.975, 10}
    rel(studentTTwoSided(1, 1), 0.5, 1e-12); // Cauchy
  });
});

describe('paired t-test (vs scipy.stats.ttest_rel)', () => {
  it('small sample', () => {
    const t = pairedTTest(SMALL.a, SMALL.b);
    rel(t.t, 2.4860123713951245);
    rel(t.pValue, 0.03464795942807776);
    rel(t.cohensD, 0.786146138496502);
    expect(t.df).toBe(9);
  });
  it('ties and large sample', () => {
    rel(pairedTTest(TIES.a, TIES.b).pValue, 0.05427441349738841);
    const t = pairedTTest(LARGE.a, LARGE.b);
    rel(t.t, 7.167415854457686);
    rel(t.pValue, 3.569399510624565e-10, 1e-7);
    rel(t.cohensD, 0.8013414536788563);
  });
  it('degenerate inputs: constant differences, too few pairs, mismatched lengths', () => {
    expect(pairedTTest([1, 2, 3], [1, 2, 3])).toMatchObject({ t: 0, pValue: 1, cohensD: 0 });
    expect(pairedTTest([2, 3, 4], [1, 2, 3])).toMatchObject({ t: Number.POSITIVE_INFINITY, pValue: 0 });
    expect(() => pairedTTest([1], [2])).toThrow(MetricInputError);
    expect(() => pairedTTest([1, 2], [2])).toThrow(MetricInputError);
    expect(() => pairedTTest([1, Number.NaN], [2, 3])).toThrow(/non-finite/);
  });
});

describe('Wilcoxon signed-rank (vs scipy.stats.wilcoxon)', () => {
  it('exact distribution for a small sample without ties', () => {
    const w = wilcoxonSignedRank(SMALL.a, SMALL.b);
    expect(w.method).toBe('exact');
    expect(w.statistic).toBe(9);
    rel(w.pValue, 0.064453125, 1e-12);
    const asym = wilcoxonSignedRank(SMALL.a, SMALL.b, { method: 'asymptotic' });
    rel(asym.pValue, 0.06654572134371614);
    const plain = wilcoxonSignedRank(SMALL.a, SMALL.b, { method: 'asymptotic', correction: false });
    rel(plain.pValue, 0.05933611988090862);
    // reelab's z is the uncorrected one (scipy prints −|z|); r = z / √n
    rel(asym.z, 1.8856946083192145);
    rel(asym.r, 1.8856946083192145 / Math.sqrt(10));
  });
  it('ties and a zero with n ≤ 13: exact enumeration of sign flips', () => {
    const w = wilcoxonSignedRank(TIES.a, TIES.b);
    expect(w.method).toBe('permutation');
    expect(w.zeros).toBe(2);
    expect(w.n).toBe(8);
    expect(w.statistic).toBe(4);
    rel(w.pValue, 0.0546875, 1e-12);
    rel(wilcoxonSignedRank(TIES.a, TIES.b, { method: 'asymptotic' }).pValue, 0.0513483325632606);
    const plain = wilcoxonSignedRank(TIES.a, TIES.b, { method: 'asymptotic', correction: false });
    rel(plain.pValue, 0.043308142810791955);
    rel(plain.z, 2.0207259421636903);
  });
  it('normal approximation with tie and continuity corrections above 50 pairs', () => {
    const w = wilcoxonSignedRank(LARGE.a, LARGE.b);
    expect(w.method).toBe('asymptotic');
    expect(w.statistic).toBe(345);
    rel(w.pValue, 1.1876196021716197e-8, 1e-7);
    rel(wilcoxonSignedRank(LARGE.a, LARGE.b, { correction: false }).pValue, 1.1693555285256307e-8, 1e-7);
    rel(w.z, 5.704134740569966);
    rel(w.r, 5.704134740569966 / Math.sqrt(w.n));
  });
  it('all-zero differences and empty input', () => {
    expect(wilcoxonSignedRank([1, 2], [1, 2])).toMatchObject({ pValue: 1, n: 0, zeros: 2, r: 0 });
    expect(() => wilcoxonSignedRank([], [])).toThrow(MetricInputError);
  });
});

describe('compareModels pairs per-user values by user', () => {
  it('uses only users present in both, in user order', () => {
    const a = {
      name: 'ndcg@10',
      users: Int32Array.from([5, 1, 3, 9]),
      values: Float64Array.from([0.5, 0.1, 0.3, 0.9]),
      mean: 0,
      excluded: 0,
    };
    const b = {
      name: 'ndcg@10',
      users: Int32Array.from([1, 3, 5, 7]),
      values: Float64Array.from([0.0, 0.1, 0.2, 0.7]),
      mean: 0,
      excluded: 0,
    };
    const c = compareModels(a, b);
    expect(c.users).toBe(3);
    expect(c.meanA).toBeCloseTo(0.3, 15);
    expect(c.meanB).toBeCloseTo(0.1, 15);
    // differences (users 1, 3, 5) = 0.1, 0.2, 0.3
    expect(c.tTest.meanDifference).toBeCloseTo(0.2, 15);
    expect(c.tTest.sdDifference).toBeCloseTo(0.1, 15);
  });
});
