import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmfModel } from '../../lib/models/lmf';
import { loadModel, saveModel } from '../../lib/models/persist';
import { planted } from './implicit-fixtures';

describe('LMF', () => {
  it('recovers the planted groups', async () => {
    const data = planted();
    const m = new LmfModel({ factors: 4, epochs: 30 });
    await m.fit(data);
    let inGroup = 0;
    let total = 0;
    for (let u = 0; u < data.nUsers; u++) {
      for (const i of m.recommend(u, 5).items) {
        total++;
        if (i < 20 === (u % 2 === 0)) inGroup++;
      }
    }
    expect(inGroup / total).toBeGreaterThan(0.75);
  });

  it('keeps the bias columns fixed at 1 and is thread-invariant', async () => {
    const data = planted(300, 50, 10);
    const a = new LmfModel({ factors: 6, epochs: 4 });
    const b = new LmfModel({ factors: 6, epochs: 4 });
    await a.fit(data, { threads: 1 });
    await b.fit(data, { threads: 2 });
    const sa = a.batchScorer();
    const sb = b.batchScorer();
    expect(Buffer.from(sb.userFactors.buffer).equals(Buffer.from(sa.userFactors.buffer))).toBe(true);
    expect(Buffer.from(sb.itemFactors.buffer).equals(Buffer.from(sa.itemFactors.buffer))).toBe(true);
    for (let u = 0; u < 300; u++) expect(sa.userFactors[u * 8 + 6]).toBe(1);
    const counts = data.itemCounts();
    for (let i = 0; i < 50; i++) expect(sa.itemFactors[i * 8 + 7]).toBe(counts[i]! > 0 ? 1 : 0);
  });

  it('save/load round-trips', async () => {
    const m = new LmfModel({ factors: 3, epochs: 3 });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-lmf-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    expect(Array.from(model.recommend(2, 5).items)).toEqual(Array.from(m.recommend(2, 5).items));
  });
});
