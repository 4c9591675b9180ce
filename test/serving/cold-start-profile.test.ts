import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecommendationService } from '../../lib/serving/service';
import { train } from '../../lib/workflows/train';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';

/**
 * Issue 10's cold-start acceptance on real ml-latest-small: a new user who gives ten ratings gets
 * recommendations (through the same path as `reelab recommend --ratings` and POST /recommendations) that
 * reflect those ratings — ten liked horror films push horror up, ten liked comedies push comedy up. Checked on
 * the top-N models (implicit factors); rating models such as SVD fold in too, but their top-N lists are
 * dominated by item biases (Surprise-default SVD factors on 100k ratings carry little genre signal).
 */
describe.runIf(HAS_ML_LATEST_SMALL)('cold start from ten ratings (ml-latest-small)', () => {
  const dataDir = realDataDir();
  const services: Record<string, RecommendationService> = {};
  let profiles: Record<'Horror' | 'Comedy', Array<{ movieId: number; rating: number }>>;

  beforeAll(async () => {
    for (const [name, params] of [
      ['ials', { factors: 32, iterations: 10, seed: 1 }],
      ['bpr', { factors: 32, iterations: 60, seed: 1 }],
    ] as const) {
      const out = mkdtempSync(join(tmpdir(), `reelab-cold-${name}-`));
      await train({ dataset: 'ml-latest-small', model: name, params, out, dataDir, tracking: null });
      services[name] = await RecommendationService.open(out);
    }
    // The ten most-rated movies whose only genre is Horror (or Comedy): unmistakable profiles.
    const like = (genre: string) =>
      services.ials!.popularInGenre([genre], 10).map((m) => ({ movieId: m.movieId, rating: 5 }));
    profiles = { Horror: like('Horror'), Comedy: like('Comedy') };
  }, 300_000);

  const share = (items: Array<{ genres: string[] }>, genre: string) =>
    items.filter((m) => m.genres.includes(genre)).length / items.length;

  it.each(['ials', 'bpr'])('%s: the genre of the ten ratings dominates the new user’s top 20', (name) => {
    const service = services[name]!;
    expect(profiles.Horror).toHaveLength(10);
    const horror = service.recommendForRatings(profiles.Horror, 20, false);
    const comedy = service.recommendForRatings(profiles.Comedy, 20, false);
    expect(horror.used).toBe(10);
    expect(horror.method).not.toBe('item-neighbours');
    // Rated movies are never recommended back.
    const rated = new Set(profiles.Horror.map((r) => r.movieId));
    expect(horror.items.some((m) => rated.has(m.movieId))).toBe(false);
    expect(share(horror.items, 'Horror')).toBeGreaterThan(share(comedy.items, 'Horror') + 0.25);
    expect(share(comedy.items, 'Comedy')).toBeGreaterThan(share(horror.items, 'Comedy') + 0.25);
  });
});
