import { Rng } from '../util/rng';
import { IdMap } from './id-map';
import { Interactions } from './interactions';

export const SYNTHETIC_GENRES = [
  'Action',
  'Adventure',
  'Animation',
  'Children',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

export interface SyntheticOptions {
  ratings: number;
  seed?: number;
  /** Defaults scale like MovieLens: ~160 ratings per user, ~87k items at 32M ratings. */
  users?: number;
  items?: number;
  /** Latent dimensions of the generating model. */
  factors?: number;
}

export interface SyntheticData {
  ratings: Interactions;
  /** Per item (index order): title and genres, MovieLens-shaped. */
  titles: string[];
  genres: string[][];
  years: Int16Array;
}

/**
 * MovieLens-shaped data at any size: power-law item popularity and user activity (at least 20 ratings per
 * user, as GroupLens keeps), ratings from a latent-factor model rounded to half stars, increasing timestamps
 * per user and genres that correlate with the item factors. Rows come sorted by user then item, as in ml-32m.
 */
export function generateSynthetic(options: SyntheticOptions): SyntheticData {
  const n = Math.floor(options.ratings);
  if (!(n >= 100)) throw new RangeError(`synthetic: ratings must be at least 100, got ${options.ratings}`);
  const seed = options.seed ?? 42;
  const rng = new Rng(seed);
  const nItems = options.items ?? Math.max(200, Math.round(87000 * Math.sqrt(n / 32e6)));
  const nUsers = options.users ?? Math.max(10, Math.round(n / 160));
  const k = options.factors ?? 8;

  // User activity: Pareto-like weights scaled to sum n, each user ≥ min(20, …) and ≤ half the catalogue.
  const counts = activityCounts(n, nUsers, nItems, rng);

  // Item popularity: Zipf(0.9) over a random permutation of items, sampled through a cumulative table.
  const popularityRank = rng.permutation(nItems);
  const cumulative = new Float64Array(nItems);
  let acc = 0;
  for (let i = 0; i < nItems; i++) {
    acc += 1 / (popularityRank[i]! + 1) ** 0.9;
    cumulative[i] = acc;
  }
  const guide = guideTable(cumulative, acc);

  const userFactors = new Float32Array(nUsers * k);
  const itemFactors = new Float32Array(nItems * k);
  rng.fillNormal(userFactors, 0, 0.45);
  rng.fillNormal(itemFactors, 0, 0.45);
  const userBias = new Float32Array(nUsers);
  const itemBias = new Float32Array(nItems);
  rng.fillNormal(userBias, 0, 0.4);
  rng.fillNormal(itemBias, 0, 0.5);

  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Int32Array(n);
  const stamp = new Int32Array(nItems).fill(-1);
  const start1996 = 820454400;
  const span = 27 * 365 * 86400;
  let row = 0;
  for (let u = 0; u < nUsers; u++) {
    const c = counts[u]!;
    const begin = row;
    while (row - begin < c) {
      const item = sampleCumulative(cumulative, guide, acc, rng.next() * acc);
      if (stamp[item] === u) continue;
      stamp[item] = u;
      items[row++] = item;
    }
    items.subarray(begin, row).sort();
    let t = start1996 + Math.floor(rng.next() * span * 0.9);
    for (let r = begin; r < row; r++) {
      const i = items[r]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += userFactors[u * k + f]! * itemFactors[i * k + f]!;
      const raw = 3.55 + userBias[u]! + itemBias[i]! + dot + rng.normal(0, 0.6);
      ratings[r] = Math.min(5, Math.max(0.5, Math.round(raw * 2) / 2));
      users[r] = u;
      t += 1 + Math.floor(rng.next() * 4000);
      timestamps[r] = t;
    }
  }

  const genres: string[][] = [];
  const titles: string[] = [];
  const years = new Int16Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const g = itemGenres(itemFactors, i, k, rng);
    genres.push(g);
    years[i] = 1930 + Math.min(92, Math.floor(Math.sqrt(rng.next()) * 93));
    titles.push(`Synthetic Movie ${i + 1} (${years[i]})`);
  }

  const ids = (count: number) => {
    const a = new Int32Array(count);
    for (let i = 0; i < count; i++) a[i] = i + 1;
    return IdMap.fromSorted(a);
  };
  return {
    ratings: new Interactions({
      users,
      items,
      ratings,
      timestamps,
      userIds: ids(nUsers),
      itemIds: ids(nItems),
      source: `synthetic:${n} (seed ${seed})`,
    }),
    titles,
    genres,
    years,
  };
}

function activityCounts(n: number, nUsers: number, nItems: number, rng: Rng): Int32Array {
  const minCount = Math.min(20, Math.floor(n / nUsers));
  const cap = Math.max(minCount, Math.floor(nItems / 2));
  if (n > cap * nUsers) {
    // Each user rates at most half the catalogue; more ratings than that cannot be placed.
    throw new RangeError(
      `synthetic: ${n} ratings do not fit ${nUsers} users × ${nItems} items (at most ${cap * nUsers} with each user rating ≤ half the items)`,
    );
  }
  const weights = new Float64Array(nUsers);
  let total = 0;
  for (let u = 0; u < nUsers; u++) {
    weights[u] = 1 / (1 - rng.next() * 0.999) ** 0.8; // Pareto tail
    total += weights[u]!;
  }
  const counts = new Int32Array(nUsers);
  const free = n - minCount * nUsers;
  let assigned = 0;
  for (let u = 0; u < nUsers; u++) {
    counts[u] = Math.min(cap, minCount + Math.floor((weights[u]! / total) * free));
    assigned += counts[u]!;
  }
  // Hand out the remainder round-robin to users below the cap so the total is exactly n.
  for (let u = 0; assigned < n; u = (u + 1) % nUsers) {
    if (counts[u]! < cap) {
      counts[u]!++;
      assigned++;
    }
  }
  return counts;
}

/** guide[b] = first index whose cumulative weight reaches b/G of the total (G = number of items). */
function guideTable(cumulative: Float64Array, total: number): Int32Array {
  const g = cumulative.length;
  const guide = new Int32Array(g);
  let i = 0;
  for (let b = 0; b < g; b++) {
    const threshold = (b * total) / g;
    while (i < g - 1 && cumulative[i]! < threshold) i++;
    guide[b] = i;
  }
  return guide;
}

/** Smallest index whose cumulative weight is ≥ x: a binary search inside the guide table's bucket. */
function sampleCumulative(cumulative: Float64Array, guide: Int32Array, total: number, x: number): number {
  const g = cumulative.length;
  const b = Math.min(g - 1, Math.floor((x * g) / total));
  let lo = b > 0 ? guide[b - 1]! : 0; // one bucket of slack for rounding in (x * g) / total
  let hi = b + 2 < g ? guide[b + 2]! : g - 1;
  if (lo > 0 && cumulative[lo - 1]! >= x) lo = 0;
  if (cumulative[hi]! < x) hi = g - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function itemGenres(itemFactors: Float32Array, item: number, k: number, rng: Rng): string[] {
  const count = 1 + Math.min(2, Math.floor(rng.next() * 3));
  const chosen = new Set<string>();
  // The first genre follows the item's strongest factor so genres carry signal for content models.
  let best = 0;
  for (let f = 1; f < k; f++) if (itemFactors[item * k + f]! > itemFactors[item * k + best]!) best = f;
  chosen.add(SYNTHETIC_GENRES[(best * 2) % SYNTHETIC_GENRES.length]!);
  while (chosen.size < count) chosen.add(SYNTHETIC_GENRES[rng.int(SYNTHETIC_GENRES.length)]!);
  return [...chosen];
}
