import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { ItemKnnModel } from '../../lib/models/item-knn';
import { loadModel, saveModel } from '../../lib/models/persist';
import { planted } from './implicit-fixtures';

// u0: {0, 1}; u1: {0, 1, 2}; u2: {2, 3}
function tiny(): Interactions {
  return new Interactions({
    users: Int32Array.from([0, 0, 1, 1, 1, 2, 2]),
    items: Int32Array.from([0, 1, 0, 1, 2, 2, 3]),
    ratings: Float32Array.from([5, 3, 4, 4, 2, 5, 1]),
    userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
    itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
  });
}

function row(m: ItemKnnModel, i: number): Array<[number, number]> {
  const s = m.similarity;
  const out: Array<[number, number]> = [];
  for (let e = s.indptr[i]!; e < s.indptr[i + 1]!; e++) out.push([s.indices[e]!, s.values[e]!]);
  return out;
}

describe('item-KNN', () => {
  it('cosine neighbours by hand: unit item vectors over users, top-k with the item itself', async () => {
    const m = new ItemKnnModel({ k: 3, weighting: 'cosine' });
    await m.fit(tiny());
    // i0 = i1 = (1,1,0)/√2, i2 = (0,1,1)/√2, i3 = (0,0,1)
    const r0 = row(m, 0);
    expect(r0.map(([j]) => j)).toEqual([0, 1, 2]); // ties (0 and 1 at 1.0) go to the lower index
    expect(r0[2]![1]).toBeCloseTo(0.5, 6);
    const r3 = row(m, 3);
    expect(r3.map(([j]) => j)).toEqual([3, 2]); // only co-occurring items are stored
    expect(r3[1]![1]).toBeCloseTo(Math.SQRT1_2, 6);
    // u2 = {2, 3}: item 0 gets sim(2, 0) = 0.5 from item 2's list; item 1 is cut from it (k = 3)
    const top = m.recommend(2, 2);
    expect(Array.from(top.items)).toEqual([0, 1]);
    expect(top.scores[0]).toBeCloseTo(0.5, 6);
    expect(top.scores[1]).toBe(0);
  });

  it('rating values weight the user’s items in the score', async () => {
    const m = new ItemKnnModel({ k: 4, values: 'rating', weighting: 'none' });
    await m.fit(tiny());
    // raw co-occurrence on ratings: sim(2, 0) = Σ_u r_u2·r_u0 = 2·4 (u1); u2 scores item 0 with r(u2,2)=5 → 5·8
    const scores = new Float32Array(4);
    m.scoreAll(2, scores);
    expect(scores[0]).toBeCloseTo(5 * 8, 4);
  });

  it('similarItems leaves the item out, best first', async () => {
    const m = new ItemKnnModel({ k: 4 });
    await m.fit(tiny());
    const s = m.similarItems(2, 3);
    expect(Array.from(s.items)).toEqual([3, 0, 1]);
    expect(s.scores[0]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  for (const weighting of ['tfidf', 'bm25'] as const) {
    it(`${weighting}: 1 and 2 threads give identical neighbour lists`, async () => {
      const data = planted(200, 60, 10);
      const a = new ItemKnnModel({ k: 10, weighting });
      const b = new ItemKnnModel({ k: 10, weighting });
      await a.fit(data, { threads: 1 });
      await b.fit(data, { threads: 2 });
      expect(Array.from(b.similarity.indices)).toEqual(Array.from(a.similarity.indices));
      expect(Array.from(b.similarity.values)).toEqual(Array.from(a.similarity.values));
    });
  }

  it('save/load round-trips bit-identically', async () => {
    const m = new ItemKnnModel({ k: 5, weighting: 'bm25' });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-knn-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    expect(Array.from(model.recommend(4, 6).items)).toEqual(Array.from(m.recommend(4, 6).items));
  });
});
