import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BprStrata, bprStratumTask } from '../../lib/compute/bpr';
import { BprModel } from '../../lib/models/bpr';
import { loadModel, saveModel } from '../../lib/models/persist';
import { Rng } from '../../lib/util/rng';
import { planted } from './implicit-fixtures';

/** AUC over held-in pairs: share of (seen, unseen) pairs the model orders correctly, averaged over users. */
function trainAuc(m: BprModel, data = planted()): number {
  const scores = new Float32Array(data.nItems);
  let total = 0;
  for (let u = 0; u < data.nUsers; u++) {
    m.scoreAll(u, scores);
    const seen = new Set(m.seenItems(u));
    let good = 0;
    let pairs = 0;
    for (const i of seen)
      for (let j = 0; j < data.nItems; j++) {
        if (seen.has(j)) continue;
        pairs++;
        if (scores[i]! > scores[j]!) good++;
      }
    total += good / pairs;
  }
  return total / data.nUsers;
}

describe('BPR', () => {
  it('one SGD step moves x_u·(y_i − y_j) up, as the BPR gradient says', () => {
    const k = 3;
    const x = Float32Array.from([0.1, -0.2, 0.3, 1]);
    const y = Float32Array.from([0.2, 0.1, -0.1, 0.05, -0.3, 0.2, 0.4, -0.1]);
    const before = x.reduce((s, v, f) => s + v * (y[f]! - y[4 + f]!), 0);
    const z = 1 / (1 + Math.exp(before));
    const lr = 0.1;
    bprStratumTask({
      x,
      y,
      k,
      stratumUsers: Int32Array.from([0]),
      stratumItems: Int32Array.from([0]),
      start: 0,
      end: 1,
      negatives: Int32Array.from([1]),
      negStart: 0,
      negEnd: 1,
      indptr: Int32Array.from([0, 1]),
      indices: Int32Array.from([0]),
      verifyNegative: true,
      negativeRetries: 0,
      learningRate: lr,
      regularization: 0,
      seed: 1,
      stream: 0,
    });
    // d/dx_u ln σ(x·(y_i − y_j)) = (1 − σ)(y_i − y_j) = z·(y_i − y_j) for the k factor columns
    const expectedX0 = 0.1 + lr * z * (0.2 - -0.3);
    expect(x[0]).toBeCloseTo(expectedX0, 6);
    expect(x[3]).toBe(1); // the user's bias column stays 1
    expect(y[3]).toBeCloseTo(0.05 + lr * z, 6); // item bias of the positive goes up
    expect(y[7]).toBeCloseTo(-0.1 - lr * z, 6);
    const after = x.reduce((s, v, f) => s + v * (y[f]! - y[4 + f]!), 0);
    expect(after).toBeGreaterThan(before);
  });

  it('strata partition the interactions and negatives come from the stratum’s item block', () => {
    const data = planted(50, 30, 6);
    const { indptr, indices } = data.csr();
    const strata = new BprStrata({
      nUsers: 50,
      nItems: 30,
      indptr,
      indices,
      blocks: 3,
      sampling: 'popularity',
    });
    strata.build(new Rng(5));
    expect(strata.stratumStart[9]).toBe(indices.length);
    const pairs = new Set<string>();
    for (let b = 0; b < 3; b++)
      for (let c = 0; c < 3; c++) {
        const negBlock = new Set(strata.negatives.subarray(strata.negStart[c]!, strata.negStart[c + 1]!));
        for (let q = strata.stratumStart[b * 3 + c]!; q < strata.stratumStart[b * 3 + c + 1]!; q++) {
          pairs.add(`${strata.stratumUsers[q]}:${strata.stratumItems[q]}`);
          expect(negBlock.has(strata.stratumItems[q]!)).toBe(true);
        }
      }
    expect(pairs.size).toBe(indices.length);
  });

  it('training AUC rises clearly on planted structure', async () => {
    const untrained = new BprModel({ factors: 8, epochs: 1, learningRate: 1e-6 });
    await untrained.fit(planted());
    const m = new BprModel({ factors: 8, epochs: 200, learningRate: 0.05 });
    await m.fit(planted());
    expect(trainAuc(untrained)).toBeLessThan(0.7);
    expect(trainAuc(m)).toBeGreaterThan(0.85);
  });

  it('the WebAssembly kernel draws the same samples as the JS kernel (same skips and AUC, close factors)', async () => {
    const data = planted(150, 50, 10);
    const reports: Record<string, Array<Record<string, number>>> = { wasm: [], js: [] };
    const models: Record<string, BprModel> = {};
    for (const kernel of ['wasm', 'js'] as const) {
      models[kernel] = new BprModel({ factors: 6, epochs: 3, kernel });
      await models[kernel].fit(data, { onEpoch: (e) => reports[kernel]!.push(e.metrics!) });
    }
    expect(reports.wasm!.map((r) => r.skipped)).toEqual(reports.js!.map((r) => r.skipped));
    const a = models.wasm!.factorsView.items;
    const b = models.js!.factorsView.items;
    let diff = 0;
    for (let e = 0; e < a.length; e++) diff = Math.max(diff, Math.abs(a[e]! - b[e]!));
    expect(diff).toBeLessThan(1e-4);
  });

  it('1 and 2 threads give bit-identical factors for a seed; another seed differs', async () => {
    const data = planted(200, 60, 10);
    const a = new BprModel({ factors: 8, epochs: 5 });
    const b = new BprModel({ factors: 8, epochs: 5 });
    const c = new BprModel({ factors: 8, epochs: 5, seed: 7 });
    await a.fit(data, { threads: 1 });
    await b.fit(data, { threads: 2 });
    await c.fit(data, { threads: 2 });
    expect(Buffer.from(b.factorsView.items.buffer).equals(Buffer.from(a.factorsView.items.buffer))).toBe(
      true,
    );
    expect(Buffer.from(b.factorsView.users.buffer).equals(Buffer.from(a.factorsView.users.buffer))).toBe(
      true,
    );
    expect(Buffer.from(c.factorsView.items.buffer).equals(Buffer.from(a.factorsView.items.buffer))).toBe(
      false,
    );
  });

  it('reports train AUC and the skipped share per epoch', async () => {
    const reports: Array<Record<string, number>> = [];
    await new BprModel({ factors: 4, epochs: 3 }).fit(planted(), {
      onEpoch: (e) => reports.push(e.metrics!),
    });
    expect(reports).toHaveLength(3);
    for (const r of reports) {
      expect(r.skipped).toBeGreaterThan(0); // popular negatives are often seen items
      expect(r.trainAuc).toBeGreaterThan(0);
    }
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new BprModel({ factors: 4, epochs: 3 });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-bpr-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    m.scoreAll(3, a);
    model.scoreAll(3, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
