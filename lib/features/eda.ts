import type { MovieCatalogue } from '../data/catalogue';
import type { Interactions } from '../data/interactions';

/** How many ratings have each distinct rating value (values ascending). */
export function ratingValueCounts(ratings: Interactions): { values: number[]; counts: number[] } {
  const byTwice = new Map<number, number>();
  for (let k = 0; k < ratings.size; k++) {
    const key = Math.round(ratings.ratings[k]! * 1000);
    byTwice.set(key, (byTwice.get(key) ?? 0) + 1);
  }
  const keys = [...byTwice.keys()].sort((a, b) => a - b);
  return { values: keys.map((k) => k / 1000), counts: keys.map((k) => byTwice.get(k)!) };
}

/** Number of ratings of each item, most popular first (the long tail), with the item indices in that order. */
export function itemPopularity(ratings: Interactions): { items: Int32Array; counts: Int32Array } {
  return sortedCounts(ratings.itemCounts());
}

/** Number of ratings of each user, most active first, with the user indices in that order. */
export function userActivity(ratings: Interactions): { users: Int32Array; counts: Int32Array } {
  const { items, counts } = sortedCounts(ratings.userCounts());
  return { users: items, counts };
}

function sortedCounts(raw: Int32Array): { items: Int32Array; counts: Int32Array } {
  const order = Int32Array.from({ length: raw.length }, (_, i) => i).sort(
    (a, b) => raw[b]! - raw[a]! || a - b,
  );
  return { items: order, counts: Int32Array.from(order, (i) => raw[i]!) };
}

/** Histogram of counts: how many entities have exactly c ratings, for c = 0..max (for log-log activity plots). */
export function countHistogram(counts: Int32Array): Int32Array {
  let max = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > max) max = counts[i]!;
  const hist = new Int32Array(max + 1);
  for (let i = 0; i < counts.length; i++) hist[counts[i]!]!++;
  return hist;
}

/**
 * Movies per genre per release year (catalogue movies with a known year): `counts[y * genres.length + g]`.
 * Years run from the earliest to the latest release year without gaps.
 */
export function genreCountsByYear(movies: MovieCatalogue): {
  years: number[];
  genres: string[];
  counts: Int32Array;
} {
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < movies.size; r++) {
    const y = movies.years[r]!;
    if (y === 0) continue;
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  if (!Number.isFinite(lo))
    return { years: [], genres: movies.genreNames.slice(), counts: new Int32Array(0) };
  const years = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const g = movies.genreNames.length;
  const counts = new Int32Array(years.length * g);
  for (let r = 0; r < movies.size; r++) {
    const y = movies.years[r]!;
    if (y === 0) continue;
    for (let k = movies.genreIndptr[r]!; k < movies.genreIndptr[r + 1]!; k++)
      counts[(y - lo) * g + movies.genreIndices[k]!]!++;
  }
  return { years, genres: movies.genreNames.slice(), counts };
}

/** Ratings per calendar year (UTC) of the rating timestamp, with their mean rating. */
export function ratingsByYear(ratings: Interactions): {
  years: number[];
  counts: number[];
  meanRating: number[];
} {
  const ts = ratings.timestamps;
  if (!ts || ratings.size === 0) return { years: [], counts: [], meanRating: [] };
  const count = new Map<number, number>();
  const sum = new Map<number, number>();
  for (let k = 0; k < ratings.size; k++) {
    const y = utcYear(ts[k]!);
    count.set(y, (count.get(y) ?? 0) + 1);
    sum.set(y, (sum.get(y) ?? 0) + ratings.ratings[k]!);
  }
  const years = [...count.keys()].sort((a, b) => a - b);
  return {
    years,
    counts: years.map((y) => count.get(y)!),
    meanRating: years.map((y) => sum.get(y)! / count.get(y)!),
  };
}

const yearStart = new Map<number, number>();
function startOf(year: number): number {
  let s = yearStart.get(year);
  if (s === undefined) {
    s = Date.UTC(year, 0, 1) / 1000;
    yearStart.set(year, s);
  }
  return s;
}

/** UTC calendar year of a unix time in seconds, without a Date object per call. */
export function utcYear(seconds: number): number {
  let y = 1970 + Math.floor(seconds / 31556952);
  while (seconds < startOf(y)) y--;
  while (seconds >= startOf(y + 1)) y++;
  return y;
}
