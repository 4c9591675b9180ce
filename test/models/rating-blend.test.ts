import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../lib/data/synthetic';
import { evaluateRatings } from '../../lib/eval/rating';
import { itemGenresFromMovies } from '../../lib/models/als-genre';
import { loadModel, saveModel } from '../../lib/models/persist';
import type { RatingBlendModel } from '../../lib/models/rating-blend';
import { createModel } from '../../lib/models/registry';
import { ConfigError } from '../../lib/util/errors';

describe('rating-blend', () => {
  const s = generateSynthetic({ ratings: 15000, seed: 21 });
  const data = s.ratings;
  const rows = Int32Array.from({ length: data.size }, (_, i) => i);
  const train = data.select(rows.filter((r) => r % 5 !== 0));
  const test = data.select(rows.filter((r) => r % 5 === 0));
  const genres = itemGenresFromMovies(
    s.titles.map((title, i) => ({ movieId: i + 1, title, year: null, genres: s.genres[i]! })),
    data.itemIds,
  );
  const members = JSON.stringify([
    { model: 'baseline' },
    { model: 'svd', params: { factors: 8, epochs: 15 } },
    { model: 'als-genre', params: { factors: 4, epochs: 4 } },
  ]);

  it('is no worse on held-out data than its best member, and passes genres to members that need them', async () => {
    const blend = createModel('rating-blend', { members }) as RatingBlendModel;
    blend.setItemGenres(genres);
    await blend.fit(train);
    const rmseBlend = evaluateRatings(blend, test).rmse;
    const single: number[] = [];
    for (const [name, params] of [
      ['baseline', {}],
      ['svd', { factors: 8, epochs: 15 }],
    ] as const) {
      const m = createModel(name, params);
      await m.fit(train);
      single.push(evaluateRatings(m, test).rmse);
    }
    expect(rmseBlend).toBeLessThan(Math.min(...single) + 0.002);
    expect(blend.blendWeights).toHaveLength(4);
  });

  it('takes members as a list (YAML) or as JSON text (--set)', () => {
    const list = [{ model: 'baseline' }, { model: 'svd', params: { factors: 4 } }];
    const a = createModel('rating-blend', { members: list });
    const b = createModel('rating-blend', { members: JSON.stringify(list) });
    expect(a.params.members).toBe(b.params.members);
    expect(() =>
      createModel('rating-blend', { members: [{ model: 'svd', params: { factors: -1 } }] }),
    ).toThrow(/factors/);
  });

  it('rejects bad member lists and needs genres for genre members', async () => {
    expect(() => createModel('rating-blend', { members: '[]' })).toThrow(ConfigError);
    expect(() => createModel('rating-blend', { members: 'nope' })).toThrow(/not valid JSON/);
    expect(() => createModel('rating-blend', { members: '[{"model":"nope"}]' })).toThrow(/unknown model/);
    await expect(createModel('rating-blend', { members }).fit(train)).rejects.toThrow(/needs movie genres/);
  });

  it('save/load round-trips bit-identically', async () => {
    const blend = createModel('rating-blend', {
      members: JSON.stringify([{ model: 'baseline' }, { model: 'knn-user', params: { k: 10 } }]),
      refit: false,
    });
    await blend.fit(train);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-blend-'));
    await saveModel(blend, dir);
    const { model } = await loadModel(dir);
    expect(Array.from(model.predict(test.users, test.items))).toEqual(
      Array.from(blend.predict(test.users, test.items)),
    );
  });
});
