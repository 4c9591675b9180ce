import { describe, expect, it } from 'vitest';
import { easeWeights } from '../../lib/compute/dense-ease';
import { SpdMatrix, spdBytes } from '../../lib/compute/dense-spd';
import { Rng } from '../../lib/util/rng';

/** Inverse by Gauss-Jordan with partial pivoting (dense reference). */
function inverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** XᵀX + 0.5·I for a Gaussian (n + 3) × n X: symmetric positive definite, condition ~10³. */
function randomSpd(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const x = new Float64Array((n + 3) * n);
  rng.fillNormal(x);
  const g = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < n + 3; r++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i]![j]! += x[r * n + i]! * x[r * n + j]!;
  for (let i = 0; i < n; i++) g[i]![i]! += 0.5;
  return g;
}

async function invertWith(
  g: number[][],
  options: { block?: number; rowBlock?: number; kernel?: 'wasm' | 'js'; threads?: number },
): Promise<{ ok: boolean; spd: SpdMatrix }> {
  const n = g.length;
  const spd = await SpdMatrix.create(n, options);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) spd.a[i * spd.ld + j] = g[i]![j]!;
  const ok = await spd.invert(options.threads ?? 1);
  return { ok, spd };
}

function lowerBits(spd: SpdMatrix): Buffer {
  const out = new Float64Array((spd.n * (spd.n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < spd.n; i++) for (let j = 0; j <= i; j++) out[k++] = spd.a[i * spd.ld + j]!;
  return Buffer.from(out.buffer);
}

describe('SpdMatrix (block sweep inverse)', () => {
  it('inverts a hand-computed 2 × 2 and 3 × 3 case', async () => {
    // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8
    const two = await invertWith(
      [
        [4, 2],
        [2, 3],
      ],
      { kernel: 'js' },
    );
    expect(two.ok).toBe(true);
    expect(two.spd.a[0]).toBeCloseTo(3 / 8, 15);
    expect(two.spd.a[two.spd.ld]).toBeCloseTo(-2 / 8, 15);
    expect(two.spd.a[two.spd.ld + 1]).toBeCloseTo(4 / 8, 15);
    // tridiagonal [[2,−1,0],[−1,2,−1],[0,−1,2]]⁻¹ = [[3,2,1],[2,4,2],[1,2,3]] / 4, one pivot per block
    const three = await invertWith(
      [
        [2, -1, 0],
        [-1, 2, -1],
        [0, -1, 2],
      ],
      { block: 4, kernel: 'wasm' },
    );
    const expected = [[3], [2, 4], [1, 2, 3]];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j <= i; j++)
        expect(three.spd.a[i * three.spd.ld + j]).toBeCloseTo(expected[i]![j]! / 4, 14);
  });

  it('equals the Gauss-Jordan inverse across sizes, pivot blocks and both kernels', async () => {
    for (const n of [1, 5, 37, 45]) {
      const g = randomSpd(n, n);
      const ref = inverse(g);
      for (const block of [4, 8, 16, 192]) {
        for (const kernel of ['wasm', 'js'] as const) {
          const { ok, spd } = await invertWith(g, { block, rowBlock: 8, kernel });
          expect(ok).toBe(true);
          expect(spd.wasm).toBe(kernel === 'wasm');
          for (let i = 0; i < n; i++)
            for (let j = 0; j <= i; j++) {
              const r = ref[i]![j]!;
              expect(Math.abs(spd.a[i * spd.ld + j]! - r)).toBeLessThan(1e-9 * Math.max(1, Math.abs(r)));
            }
        }
      }
    }
  });

  it('is bit-identical for 1, 2 and 3 threads and for the WebAssembly and JS kernels', async () => {
    const g = randomSpd(150, 4);
    const base = lowerBits((await invertWith(g, { block: 16, rowBlock: 8, kernel: 'wasm', threads: 1 })).spd);
    for (const [kernel, threads] of [
      ['wasm', 2],
      ['wasm', 3],
      ['js', 1],
      ['js', 2],
    ] as const) {
      const { spd } = await invertWith(g, { block: 16, rowBlock: 8, kernel, threads });
      expect(lowerBits(spd).equals(base)).toBe(true);
    }
  });

  it('A·A⁻¹ = I on a 300 × 300 matrix (five pivot blocks, 2 threads)', async () => {
    const n = 300;
    const g = randomSpd(n, 8);
    const { ok, spd } = await invertWith(g, { block: 64, threads: 2 });
    expect(ok).toBe(true);
    spd.mirror();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += g[i]![k]! * spd.a[k * spd.ld + j]!;
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-10);
  });

  it('mirror() fills the upper triangle from the lower one', async () => {
    const { spd } = await invertWith(randomSpd(70, 2), { block: 16 });
    spd.mirror();
    for (let i = 0; i < 70; i++)
      for (let j = 0; j < 70; j++) expect(spd.a[i * spd.ld + j]).toBe(spd.a[j * spd.ld + i]);
  });

  it('reports matrices that are not positive definite, in the first or in a later pivot block', async () => {
    expect(
      (
        await invertWith(
          [
            [1, 2],
            [2, 1],
          ],
          {},
        )
      ).ok,
    ).toBe(false);
    // Positive first block (identity), indefinite Schur complement: diag(1,1,1,1, −1) padded by zeros.
    const g = Array.from({ length: 9 }, (_, i) =>
      Array.from({ length: 9 }, (_, j): number => (i === j ? 1 : 0)),
    );
    g[6]![6] = -1;
    expect((await invertWith(g, { block: 4, kernel: 'wasm' })).ok).toBe(false);
    expect((await invertWith(g, { block: 4, kernel: 'js' })).ok).toBe(false);
  });

  it('rejects bad sizes and blocks, and stops when aborted', async () => {
    await expect(SpdMatrix.create(0)).rejects.toThrow(RangeError);
    await expect(SpdMatrix.create(10, { block: 6 })).rejects.toThrow(
      /block must be a positive multiple of 4/,
    );
    await expect(SpdMatrix.create(10, { rowBlock: 0 })).rejects.toThrow(/rowBlock/);
    expect(spdBytes(8239)).toBeGreaterThan(8 * 8239 * 8239);
    const spd = await SpdMatrix.create(20, { block: 4 });
    for (let i = 0; i < 20; i++) spd.a[i * spd.ld + i] = 1;
    const controller = new AbortController();
    controller.abort();
    await expect(spd.invert(1, controller.signal)).rejects.toThrow(/aborted/i);
  });
});

describe('easeWeights', () => {
  /** X: 3 users × 4 items (binary), hand-checkable through the reference inverse. */
  const x = {
    nRows: 3,
    nCols: 4,
    indptr: Int32Array.from([0, 2, 5, 7]),
    indices: Int32Array.from([0, 1, 0, 2, 3, 1, 3]),
    values: Float32Array.from([1, 1, 1, 1, 1, 1, 1]),
  };

  it('primal and dual both give B = −P_ij / P_jj with P = (XᵀX + λI)⁻¹', async () => {
    const lambda = 0.7;
    const g = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    for (let u = 0; u < 3; u++)
      for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++)
        for (let q = x.indptr[u]!; q < x.indptr[u + 1]!; q++) g[x.indices[p]!]![x.indices[q]!]! += 1;
    for (let i = 0; i < 4; i++) g[i]![i]! += lambda;
    const p = inverse(g);
    for (const solver of ['primal', 'dual'] as const) {
      const { b, solver: used, users } = await easeWeights(x, lambda, { solver });
      expect(used).toBe(solver);
      expect(users).toBe(3);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) expect(b[i * 4 + j]).toBeCloseTo(i === j ? 0 : -p[i]![j]! / p[j]![j]!, 6);
    }
  });

  it('ignores stored zeros and users without entries; rejects a non-positive lambda', async () => {
    const withZeros = {
      nRows: 4,
      nCols: 4,
      indptr: Int32Array.from([0, 2, 3, 6, 8]),
      indices: Int32Array.from([0, 1, 2, 0, 2, 3, 1, 3]),
      values: Float32Array.from([1, 1, 0, 1, 1, 1, 1, 1]),
    };
    for (const solver of ['primal', 'dual'] as const) {
      const a = await easeWeights(x, 2, { solver });
      const b = await easeWeights(withZeros, 2, { solver });
      expect(b.users).toBe(3);
      for (let k = 0; k < 16; k++) expect(b.b[k]).toBeCloseTo(a.b[k]!, 6);
    }
    await expect(easeWeights(x, 0)).rejects.toThrow(/lambda/);
  });
});
