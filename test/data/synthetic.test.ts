import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../lib/data/load';
import { generateSynthetic } from '../../lib/data/synthetic';
import { writeSyntheticMovieLens } from '../../lib/data/synthetic-files';

describe('synthetic data', () => {
  it('is reproducible from its seed and MovieLens-shaped', () => {
    const a = generateSynthetic({ ratings: 20000, seed: 5 }).ratings;
    const b = generateSynthetic({ ratings: 20000, seed: 5 }).ratings;
    const c = generateSynthetic({ ratings: 20000, seed: 6 }).ratings;
    expect(a.size).toBe(20000);
    expect(Array.from(a.ratings)).toEqual(Array.from(b.ratings));
    expect(Array.from(a.items)).not.toEqual(Array.from(c.items));
    // Half-star scale, at least 20 ratings per user, no duplicate pairs (CSR rows strictly ascending).
    for (const r of a.ratings) expect(r * 2).toBe(Math.round(r * 2));
    expect(Math.min(...a.userCounts())).toBeGreaterThanOrEqual(20);
    const { indptr, indices } = a.csr();
    for (let u = 0; u < a.nUsers; u++)
      for (let k = indptr[u]! + 1; k < indptr[u + 1]!; k++) expect(indices[k]! > indices[k - 1]!).toBe(true);
  });

  it('writes itself as an ml-32m-format release that the loader reads back exactly', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'reelab-synth-'));
    const written = writeSyntheticMovieLens(join(dataDir, 'ml-32m'), { ratings: 5000, seed: 3 });
    expect(written.ratings).toBe(5000);
    const original = generateSynthetic({ ratings: 5000, seed: 3 });
    const d = loadDataset('ml-32m', { dataDir });
    expect(d.ratings.size).toBe(5000);
    expect(Array.from(d.ratings.ratings)).toEqual(Array.from(original.ratings.ratings));
    expect(Array.from(d.ratings.timestamps!)).toEqual(Array.from(original.ratings.timestamps!));
    expect(Array.from(d.ratings.users, (u) => d.ratings.userIds.id(u))).toEqual(
      Array.from(original.ratings.users, (u) => original.ratings.userIds.id(u)),
    );
    // Every synthetic item is in movies.csv; rated ones are indexed, the rest have itemIndex -1.
    expect(d.movies.size).toBe(original.titles.length);
    expect(d.movies.titles[0]).toBe(original.titles[0]);
    const rated = Array.from(d.movies.itemIndex).filter((i) => i >= 0).length;
    expect(rated).toBe(d.ratings.nItems);
  });

  it('refuses more ratings than the users and items can hold, instead of looping', () => {
    expect(() => generateSynthetic({ ratings: 3000, users: 60, items: 80 })).toThrow(
      /do not fit 60 users × 80 items/,
    );
  });
});
