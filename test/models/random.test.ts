import { describe, expect, it } from 'vitest';
import { RandomModel } from '../../lib/models/random';
import { planted } from './implicit-fixtures';

describe('random', () => {
  it('is reproducible per seed and user, differs across seeds, and excludes seen items', async () => {
    const a = new RandomModel({ seed: 1 });
    const b = new RandomModel({ seed: 1 });
    const c = new RandomModel({ seed: 2 });
    const data = planted();
    await a.fit(data);
    await b.fit(data);
    await c.fit(data);
    expect(Array.from(b.recommend(5, 10).items)).toEqual(Array.from(a.recommend(5, 10).items));
    expect(Array.from(c.recommend(5, 10).items)).not.toEqual(Array.from(a.recommend(5, 10).items));
    const seen = new Set(a.seenItems(5));
    for (const i of a.recommend(5, 32).items) expect(seen.has(i)).toBe(false);
    // predict agrees with scoreAll
    const scores = new Float32Array(data.nItems);
    a.scoreAll(3, scores);
    expect(a.predict(Int32Array.from([3, 3]), Int32Array.from([7, 11]))).toEqual(
      Float32Array.from([scores[7]!, scores[11]!]),
    );
  });

  it('orders items roughly uniformly: every item reaches a top-5 over many users', async () => {
    const m = new RandomModel();
    await m.fit(planted(400, 40, 2));
    const hit = new Set<number>();
    for (let u = 0; u < 400; u++) for (const i of m.recommend(u, 5).items) hit.add(i);
    expect(hit.size).toBe(40);
  });
});
