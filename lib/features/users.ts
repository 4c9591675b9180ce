import type { MovieCatalogue } from '../data/catalogue';
import type { UserTable } from '../data/demographics';
import type { Interactions } from '../data/interactions';
import { type FeatureDb, writeFeatureTable } from './duckdb';
import type { FeatureMatrix } from './matrix';

/**
 * User features from `ratings` (give it the training part to avoid leakage), one row per user index:
 * `activity` (number of ratings), `mean_rating`, `rating_var` (population variance); per genre of `movies`
 * `genre_count:<g>` (ratings of movies in the genre) and `genre_mean:<g>` (their mean, 0 when none); and with
 * demographics `demographics_known`, `age`, `gender_m` and one-hot `occupation:<name>`. Typed-array loops
 * (one pass per rating and genre): at 32M ratings about a second, where the equivalent DuckDB join and
 * filtered group-by took over a minute on this machine (bench/results/load.md).
 */
export function userFeatureMatrix(
  ratings: Interactions,
  movies: MovieCatalogue | null = null,
  users: UserTable | null = null,
): FeatureMatrix {
  const nUsers = ratings.nUsers;
  const n = ratings.size;
  const count = new Float64Array(nUsers);
  const sum = new Float64Array(nUsers);
  for (let k = 0; k < n; k++) {
    const u = ratings.users[k]!;
    count[u]!++;
    sum[u]! += ratings.ratings[k]!;
  }
  const squares = new Float64Array(nUsers);
  for (let k = 0; k < n; k++) {
    const u = ratings.users[k]!;
    const d = ratings.ratings[k]! - sum[u]! / count[u]!;
    squares[u]! += d * d;
  }
  const genres = movies ? movies.genreNames : [];
  const g = genres.length;
  const gCount = new Float64Array(nUsers * g);
  const gSum = new Float64Array(nUsers * g);
  if (movies && g > 0) {
    const { genreIndptr, genreIndices, rowOfItem } = movies;
    for (let k = 0; k < n; k++) {
      const u = ratings.users[k]!;
      const row = rowOfItem[ratings.items[k]!]!;
      const r = ratings.ratings[k]!;
      for (let p = genreIndptr[row]!; p < genreIndptr[row + 1]!; p++) {
        const at = u * g + genreIndices[p]!;
        gCount[at]!++;
        gSum[at]! += r;
      }
    }
  }
  const occupations = users ? users.occupationNames : [];
  const columns = [
    'activity',
    'mean_rating',
    'rating_var',
    ...genres.flatMap((name) => [`genre_count:${name}`, `genre_mean:${name}`]),
    ...(users ? ['demographics_known', 'age', 'gender_m', ...occupations.map((o) => `occupation:${o}`)] : []),
  ];
  const w = columns.length;
  const data = new Float32Array(nUsers * w);
  const demoRow = new Map<number, number>();
  if (users) for (let i = 0; i < users.size; i++) demoRow.set(users.userIds[i]!, i);
  for (let u = 0; u < nUsers; u++) {
    const o = u * w;
    const c = count[u]!;
    data[o] = c;
    if (c > 0) {
      data[o + 1] = sum[u]! / c;
      data[o + 2] = squares[u]! / c;
    }
    for (let j = 0; j < g; j++) {
      const gc = gCount[u * g + j]!;
      data[o + 3 + 2 * j] = gc;
      if (gc > 0) data[o + 4 + 2 * j] = gSum[u * g + j]! / gc;
    }
    if (users) {
      const d = demoRow.get(ratings.userIds.id(u));
      if (d !== undefined) {
        const b = o + 3 + 2 * g;
        data[b] = 1;
        data[b + 1] = users.ages[d]!;
        data[b + 2] = users.genders[d]!;
        data[b + 3 + users.occupations[d]!] = 1;
      }
    }
  }
  return {
    data,
    rows: nUsers,
    columns,
    ids: ratings.userIds.ids.slice(),
    index: Int32Array.from({ length: nUsers }, (_, i) => i),
  };
}

/**
 * User features of the FeatureDb's ratings, catalogue and demographics (see userFeatureMatrix), also stored
 * in DuckDB as table `user_features(user_id, user, <feature columns>)` for SQL use.
 */
export async function userFeatures(db: FeatureDb): Promise<FeatureMatrix> {
  const m = userFeatureMatrix(db.source.ratings, db.source.movies ?? null, db.source.users ?? null);
  await writeFeatureTable(db, 'user_features', m, 'user_id', 'user');
  return m;
}
