import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS } from '../../lib/models/registry';
import { batchSource } from '../../lib/serving/batch';
import { RecommendationService } from '../../lib/serving/service';
import { train } from '../../lib/workflows/train';
import { useTempDir } from '../helpers/mlflow';

/** Fewer epochs for the slow TensorFlow.js models; every other model keeps its defaults. */
const QUICK: Record<string, Record<string, unknown>> = {
  neumf: { epochs: 3 },
  'hybrid-nn': { epochs: 3 },
};

const KNOWN_METHODS = ['model', 'baseline', 'factors-explicit', 'factors-implicit', 'item-neighbours'];

describe('every registered model trains to a folder and serves (synthetic:20000)', () => {
  const tmp = useTempDir('reelab-all-models-');

  it.each([...MODELS.keys()])('%s', async (name) => {
    const out = join(tmp(), name);
    const result = await train({
      dataset: 'synthetic:20000',
      model: name,
      params: QUICK[name] ?? {},
      out,
      seed: 5,
    });
    expect(result.users).toBe(125);
    const service = await RecommendationService.open(out);
    const { view, movies } = service.loaded;

    const userId = view.users.ids[3]!;
    const u = view.users.index(userId);
    const seen = new Set(
      Array.from(view.seenIndices.subarray(view.seenIndptr[u]!, view.seenIndptr[u + 1]!)).map((i) =>
        view.items.id(i),
      ),
    );
    const recs = service.recommendForUser(userId, 5, true);
    expect(recs.items).toHaveLength(5);
    for (const it of recs.items) {
      expect(seen.has(it.movieId)).toBe(false);
      expect(Number.isFinite(it.score)).toBe(true);
      expect(it.title).toBe(movies.titles[view.items.index(it.movieId)]);
    }

    const popular = service.search('movie', 3).map((m) => m.movieId);
    const ratings = popular.map((movieId, p) => ({ movieId, rating: [5, 4, 1][p]! }));
    const cold = service.recommendForRatings(ratings, 5);
    expect(KNOWN_METHODS).toContain(cold.method);
    expect(cold.items).toHaveLength(5);
    for (const it of cold.items) {
      expect(popular).not.toContain(it.movieId);
      expect(Number.isFinite(it.score)).toBe(true);
    }

    const similar = service.similar(popular[0]!, 3);
    expect(similar.items.length).toBeGreaterThan(0);
    expect(similar.items.map((m) => m.movieId)).not.toContain(popular[0]);

    expect(Number.isFinite(service.predict(userId, popular[0]!).prediction)).toBe(true);

    let rows = 0;
    for await (const block of batchSource(service.loaded, { k: 4 }).rows) {
      for (let r = 0; r < block.userIds.length; r++) {
        if (block.userIds[r] === userId) expect(seen.has(block.movieIds[r]!)).toBe(false);
      }
      rows += block.userIds.length;
    }
    expect(rows).toBe(125 * 4);
  });
});
