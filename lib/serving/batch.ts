import { rankUsers } from '../compute/ranking';
import { ConfigError } from '../util/errors';
import type { LoadedModel } from './artifact';

/** One block of batch recommendations: row r is (userIds[r], movieIds[r], ranks[r], scores[r]). */
export interface BatchRows {
  userIds: Int32Array;
  movieIds: Int32Array;
  /** 1-based rank within the user's list. */
  ranks: Int32Array;
  scores: Float32Array;
}

/** Everything a batch writer stores: identity of the batch, the users and movies tables, and the rows. */
export interface BatchSource {
  /** Value of the `model` column; a new batch replaces the rows with the same label. */
  label: string;
  runId: string | null;
  createdAt: Date;
  k: number;
  users: { userIds: Int32Array; ratings: Int32Array };
  movies: { movieIds: Int32Array; titles: string[]; genres: string[]; years: Array<number | null> };
  /** The recommendation rows, produced block by block (bounded memory for large datasets). */
  rows: AsyncIterable<BatchRows>;
}

export interface BatchOptions {
  k: number;
  /** `model` column value (default: the model name). */
  label?: string;
  /** Worker threads for factor models (default 1). */
  threads?: number;
  /** Users scored per block (default 4096). */
  blockUsers?: number;
  createdAt?: Date;
}

/**
 * Top-k unseen movies for every user of the model, as a BatchSource. Scoring goes through the parallel full
 * ranking of lib/compute/ranking (factor models in worker threads, others via scoreAll), block by block.
 */
export function batchSource(loaded: LoadedModel, options: BatchOptions): BatchSource {
  const { k } = options;
  if (!(Number.isInteger(k) && k >= 1 && k <= 1000))
    throw new ConfigError('k', `must be an integer from 1 to 1000, got ${k}`);
  const blockUsers = options.blockUsers ?? 4096;
  if (!(Number.isInteger(blockUsers) && blockUsers >= 1))
    throw new ConfigError('blockUsers', `must be a positive integer, got ${blockUsers}`);
  const { view, model, movies } = loaded;
  const nUsers = view.users.size;
  const ratings = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) ratings[u] = view.seenIndptr[u + 1]! - view.seenIndptr[u]!;
  async function* rows(): AsyncGenerator<BatchRows> {
    const exclude = { indptr: view.seenIndptr, indices: view.seenIndices };
    for (let start = 0; start < nUsers; start += blockUsers) {
      const end = Math.min(nUsers, start + blockUsers);
      const users = new Int32Array(end - start);
      for (let u = start; u < end; u++) users[u - start] = u;
      const ranked = await rankUsers(model, view.items.size, users, { k, exclude, threads: options.threads });
      let total = 0;
      for (let r = 0; r < users.length; r++) total += ranked.counts[r]!;
      const out: BatchRows = {
        userIds: new Int32Array(total),
        movieIds: new Int32Array(total),
        ranks: new Int32Array(total),
        scores: new Float32Array(total),
      };
      let w = 0;
      for (let r = 0; r < users.length; r++) {
        const userId = view.users.ids[users[r]!]!;
        for (let j = 0; j < ranked.counts[r]!; j++) {
          out.userIds[w] = userId;
          out.movieIds[w] = view.items.ids[ranked.items[r * k + j]!]!;
          out.ranks[w] = j + 1;
          out.scores[w] = ranked.scores[r * k + j]!;
          w++;
        }
      }
      yield out;
    }
  }
  return {
    label: options.label ?? model.name,
    runId: loaded.meta.runId,
    createdAt: options.createdAt ?? new Date(),
    k,
    users: { userIds: view.users.ids, ratings },
    movies: {
      movieIds: movies.movieIds,
      titles: movies.titles,
      genres: movies.genres.map((g) => g.join('|')),
      years: movies.years,
    },
    rows: rows(),
  };
}

export interface BatchSummary {
  target: string;
  label: string;
  runId: string | null;
  createdAt: string;
  k: number;
  users: number;
  movies: number;
  rows: number;
  seconds: number;
}

/** Table definitions shared by the DuckDB and PostgreSQL writers (portable SQL). */
export const BATCH_DDL = [
  'CREATE TABLE IF NOT EXISTS users (user_id INTEGER PRIMARY KEY, ratings INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS movies (movie_id INTEGER PRIMARY KEY, title VARCHAR NOT NULL, genres VARCHAR NOT NULL, year INTEGER)',
  `CREATE TABLE IF NOT EXISTS batch_recommendations (
     user_id INTEGER NOT NULL,
     movie_id INTEGER NOT NULL,
     rank INTEGER NOT NULL,
     score REAL NOT NULL,
     model VARCHAR NOT NULL,
     run_id VARCHAR,
     created_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (model, user_id, rank)
   )`,
];
