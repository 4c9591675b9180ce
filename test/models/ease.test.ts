import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { choleskyBlocked, invertLowerBlocked, lowerGramBlocked } from '../../lib/compute/linalg';
import { spdWorkspace } from '../../lib/compute/linalg-wasm';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { EaseModel, easeBytes } from '../../lib/models/ease';
import { loadModel, saveModel } from '../../lib/models/persist';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { planted } from './implicit-fixtures';

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

function randomSpd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = new Float64Array((n + 3) * n);
  rng.fillNormal(x);
  const g = new Float64Array(n * n);
  for (let r = 0; r < n + 3; r++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j]! += x[r * n + i]! * x[r * n + j]!;
  for (let i = 0; i < n; i++) g[i * n + i]! += 0.5;
  return g;
}

describe('blocked SPD inverse', () => {
  it('Cholesky → L⁻¹ → L⁻ᵀL⁻¹ equals the dense inverse, across several block sizes', () => {
    const n = 37;
    const g = randomSpd(n, 11);
    const ref = inverse(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n))));
    for (const nb of [1, 5, 16, 64]) {
      const a = g.slice();
      expect(choleskyBlocked(a, n, nb)).toBe(true);
      invertLowerBlocked(a, n, nb);
      const p = new Float64Array(n * n);
      lowerGramBlocked(a, n, p, nb);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) expect(p[i * n + j]).toBeCloseTo(ref[i]![j]!, 8);
    }
  });

  it('the WebAssembly workspace gives the same inverse', async () => {
    const n = 45;
    const g = randomSpd(n, 5);
    const ref = inverse(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n))));
    for (const [nb, tile] of [
      [7, 5],
      [16, 8],
      [64, 1024],
    ] as const) {
      const ws = await spdWorkspace(n, nb, tile);
      ws.g.set(g);
      expect(ws.invert()).toBe(true);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) expect(ws.p[i * n + j]).toBeCloseTo(ref[i]![j]!, 8);
    }
  });

  it('reports a matrix that is not positive definite', () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    expect(choleskyBlocked(a, 2)).toBe(false);
  });
});

describe('EASE', () => {
  it('B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹ and a zero diagonal (dense reference)', async () => {
    const data = planted(30, 12, 5, 3);
    const lambda = 2.5;
    const m = new EaseModel({ lambda });
    await m.fit(data);
    const n = data.nItems;
    const g = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let u = 0; u < data.nUsers; u++) {
      const items = [...m.seenItems(u)];
      for (const i of items) for (const j of items) g[i]![j]!++;
    }
    for (let i = 0; i < n; i++) g[i]![i]! += lambda;
    const p = inverse(g);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const expected = i === j ? 0 : -p[i]![j]! / p[j]![j]!;
        expect(m.weight(i, j)).toBeCloseTo(expected, 5);
      }
    }
    // score(u, j) = Σ_{i∈u} B_ij
    const scores = new Float32Array(n);
    m.scoreAll(4, scores);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (const i of m.seenItems(4)) s += m.weight(i, j);
      expect(scores[j]).toBeCloseTo(s, 5);
    }
  });

  it('items without training interactions are never recommended', async () => {
    const data = new Interactions({
      users: Int32Array.from([0, 0, 1, 1, 2]),
      items: Int32Array.from([0, 1, 1, 2, 0]),
      ratings: Float32Array.from([5, 4, 3, 5, 4]),
      userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
      itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
    });
    const m = new EaseModel({ lambda: 1 });
    await m.fit(data);
    expect(m.size).toBe(3);
    expect(Array.from(m.recommend(2, 5).items)).toEqual([1, 2]);
  });

  it('refuses with the memory it would need when the item × item matrices exceed the budget', async () => {
    const m = new EaseModel({ memoryBudgetGb: 1e-6 });
    await expect(m.fit(planted())).rejects.toThrow(ConfigError);
    await expect(m.fit(planted())).rejects.toThrow(/40 items need 0\.0 GB .* memoryBudgetGb of 0\.000001/);
    expect(easeBytes(84000)).toBeGreaterThan(100 * 1024 ** 3); // ml-32m's catalogue: far beyond this machine
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new EaseModel({ lambda: 10, values: 'rating' });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-ease-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    m.scoreAll(9, a);
    model.scoreAll(9, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
