import { describe, expect, it } from 'vitest';
import type { SparseMatrix } from '../../lib/compute/sparse';
import {
  binarize,
  bm25Weight,
  confidenceMatrix,
  inverseDocumentFrequency,
  linearConfidence,
  logConfidence,
  normalizeRows,
  scaledValues,
  tfidfWeight,
} from '../../lib/features/weighting';
import { ConfigError } from '../../lib/util/errors';

// 3 rows × 4 columns:
// row 0: (0, 4) (2, 1)
// row 1: (1, 2)
// row 2: (0, 5) (1, 0.5) (3, 3)
function m(): SparseMatrix {
  return {
    nRows: 3,
    nCols: 4,
    indptr: Int32Array.from([0, 2, 3, 6]),
    indices: Int32Array.from([0, 2, 1, 0, 1, 3]),
    values: Float32Array.from([4, 1, 2, 5, 0.5, 3]),
  };
}

const arr = (a: Float32Array | Int32Array) => Array.from(a);

describe('weighting', () => {
  it('binarize keeps entries at or above the threshold as 1', () => {
    expect(arr(binarize(m()).values)).toEqual([1, 1, 1, 1, 1, 1]);
    const b = binarize(m(), 3);
    expect(arr(b.indptr)).toEqual([0, 1, 1, 3]);
    expect(arr(b.indices)).toEqual([0, 0, 3]);
    expect(arr(b.values)).toEqual([1, 1, 1]);
  });

  it('linear, log and scaled confidences', () => {
    expect(arr(linearConfidence(m(), 2).values)).toEqual([9, 3, 5, 11, 2, 7]);
    const log = logConfidence(m(), 2, 0.5).values;
    expect(log[0]).toBeCloseTo(1 + 2 * Math.log(1 + 4 / 0.5), 5);
    expect(log[4]).toBeCloseTo(1 + 2 * Math.log(2), 5);
    expect(arr(scaledValues(m(), 3).values)).toEqual([12, 3, 6, 15, 1.5, 9]);
  });

  it('confidenceMatrix composes threshold, values and confidence', () => {
    const c = confidenceMatrix(m(), {
      values: 'binary',
      threshold: 2,
      confidence: 'linear',
      alpha: 10,
      eps: 1,
    });
    expect(arr(c.indices)).toEqual([0, 1, 0, 3]);
    expect(arr(c.values)).toEqual([11, 11, 11, 11]);
    const r = confidenceMatrix(m(), {
      values: 'rating',
      threshold: 0,
      confidence: 'scaled',
      alpha: 1,
      eps: 1,
    });
    expect(arr(r.values)).toEqual(arr(m().values));
  });

  it("tf-idf follows implicit's tfidf_weight: sqrt(v)·(log N − log1p(df))", () => {
    const idf = inverseDocumentFrequency(m());
    // df: col0 = 2, col1 = 2, col2 = 1, col3 = 1; N = 3
    expect(idf[0]).toBeCloseTo(Math.log(3) - Math.log(3), 12);
    expect(idf[2]).toBeCloseTo(Math.log(3) - Math.log(2), 12);
    const t = tfidfWeight(m()).values;
    expect(t[1]).toBeCloseTo(Math.sqrt(1) * (Math.log(3) - Math.log(2)), 6);
    expect(t[5]).toBeCloseTo(Math.sqrt(3) * (Math.log(3) - Math.log(2)), 6);
  });

  it("bm25 follows implicit's bm25_weight", () => {
    const k1 = 1.2;
    const b = 0.75;
    const sums = [5, 2, 8.5];
    const avg = (5 + 2 + 8.5) / 3;
    const idf3 = Math.log(3) - Math.log(2);
    const w = bm25Weight(m(), k1, b).values;
    const norm2 = 1 - b + (b * sums[2]!) / avg;
    expect(w[5]).toBeCloseTo(((3 * (k1 + 1)) / (k1 * norm2 + 3)) * idf3, 5);
    const idf1 = Math.log(3) - Math.log(3);
    expect(w[2]).toBeCloseTo(((2 * (k1 + 1)) / (k1 * (1 - b + (b * sums[1]!) / avg) + 2)) * idf1, 6);
  });

  it('normalizeRows gives unit rows', () => {
    const n = normalizeRows(m()).values;
    expect(n[0]).toBeCloseTo(4 / Math.sqrt(17), 6);
    expect(n[2]).toBeCloseTo(1, 6);
  });

  it('rejects bad settings and negative confidences with ConfigError', () => {
    expect(() => linearConfidence(m(), -1)).toThrow(ConfigError);
    expect(() => logConfidence(m(), 1, 0)).toThrow(/eps/);
    const neg = { ...m(), values: Float32Array.from([-4, 1, 2, 5, 0.5, 3]) };
    expect(() => linearConfidence(neg, 1)).toThrow(/confidences must be ≥ 0/);
  });
});
