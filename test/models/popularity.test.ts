import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadModel, saveModel } from '../../lib/models/persist';
import { PopularityModel } from '../../lib/models/popularity';

function data(): Interactions {
  // item 2: 3 ratings (one of them 1 star), item 0: 2, item 1: 1, item 3: 0
  return new Interactions({
    users: Int32Array.from([0, 0, 1, 1, 2, 2]),
    items: Int32Array.from([0, 2, 0, 2, 1, 2]),
    ratings: Float32Array.from([5, 4, 4, 1, 5, 5]),
    userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
    itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
  });
}

describe('popularity', () => {
  it('ranks by training count, leaves out seen items, breaks ties by index', async () => {
    const m = new PopularityModel();
    await m.fit(data());
    expect(Array.from(m.itemCounts)).toEqual([2, 1, 3, 0]);
    expect(Array.from(m.recommend(2, 3).items)).toEqual([0, 3]);
    expect(Array.from(m.recommend(0, 1, { exclude: 'none' }).items)).toEqual([2]);
  });

  it('threshold counts only ratings at or above it', async () => {
    const m = new PopularityModel({ threshold: 4 });
    await m.fit(data());
    expect(Array.from(m.itemCounts)).toEqual([2, 1, 2, 0]);
  });

  it('save/load round-trips', async () => {
    const m = new PopularityModel();
    await m.fit(data());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-pop-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    expect(Array.from(model.recommend(1, 2).items)).toEqual([1, 3]);
  });
});
