import { rankUsers } from '../compute/ranking';
import { registrySourceOf } from '../tracking/registry';
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

/**
 * Everything a batch writer stores: identity of the batch, the users and movies tables, and the rows. A batch is
 * identified by (label, model name, model version): a new batch replaces the rows of exactly that triple (a plain
 * model folder has null name and version), or every row of its label with `replaceAll`.
 */
export interface BatchSource {
  /** Value of the `model` column (default: the registered name, else the model's name). */
  label: string;
  /** Registered model name (`model_name` column; null for a plain model folder). */
  modelName: string | null;
  /** Registered model version (`model_version` column; null for a plain model folder). */
  modelVersion: number | null;
  /** MLflow run the model was logged to (the version's run, else the folder's own run id). */
  runId: string | null;
  /** Replace every row of the label (all versions), not only those of this (name, version). */
  replaceAll: boolean;
  createdAt: Date;
  k: number;
  users: { userIds: Int32Array; ratings: Int32Array };
  movies: { movieIds: Int32Array; titles: string[]; genres: string[]; years: Array<number | null> };
  /** The recommendation rows, produced block by block (bounded memory for large datasets). */
  rows: AsyncIterable<BatchRows>;
}

/** Which registered version a batch's rows come from. */
export interface BatchModelVersion {
  name: string;
  version: number;
  runId?: string | null;
}

export interface BatchOptions {
  k: number;
  /** `model` column value (default: the registered name for a registry model, else the model name). */
  label?: string;
  /**
   * The registered version the rows are from (default: the `.registry.json` a `models:/…` download leaves in the
   * model folder; null: a plain folder, whose version columns are null).
   */
  version?: BatchModelVersion | null;
  /** Replace every row of the label, whatever its version (default: only this version's rows). */
  replaceAll?: boolean;
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
  const version = options.version !== undefined ? options.version : registryVersionOf(loaded.dir);
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
    label: options.label ?? version?.name ?? model.name,
    modelName: version?.name ?? null,
    modelVersion: version?.version ?? null,
    runId: version?.runId ?? loaded.meta.runId ?? null,
    replaceAll: options.replaceAll === true,
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

/** The registered version a downloaded registry folder holds (its `.registry.json`), null for other folders. */
export function registryVersionOf(dir: string): BatchModelVersion | null {
  const source = registrySourceOf(dir);
  if (!source) return null;
  const version = Number(source.version);
  if (!Number.isInteger(version)) return null;
  return { name: source.name, version, runId: source.runId };
}

export interface BatchSummary {
  target: string;
  label: string;
  modelName: string | null;
  modelVersion: number | null;
  runId: string | null;
  /** What the batch replaced: the rows of its (label, name, version), or every row of its label. */
  replaced: 'version' | 'label';
  createdAt: string;
  k: number;
  users: number;
  movies: number;
  rows: number;
  seconds: number;
}

/**
 * Table definitions of the DuckDB and PostgreSQL writers (portable SQL but for the uniqueness rule). One batch is
 * the rows of one (model, model_name, model_version), and (user, rank) is unique within it. PostgreSQL checks
 * that with an expression index that counts null name and version (a plain model folder) as one value. DuckDB
 * checks unique indexes too eagerly (a DELETE and re-INSERT of a key in one transaction fails), so there it is a
 * table UNIQUE constraint on the plain columns, under which the rows of a plain folder (null version) are kept
 * unique by the writer's DELETE before its INSERT. The statements after the first two are batch_recommendations'.
 */
export function batchDdl(dialect: 'postgres' | 'duckdb'): string[] {
  return [
    'CREATE TABLE IF NOT EXISTS users (user_id INTEGER PRIMARY KEY, ratings INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS movies (movie_id INTEGER PRIMARY KEY, title VARCHAR NOT NULL, genres VARCHAR NOT NULL, year INTEGER)',
    `CREATE TABLE IF NOT EXISTS batch_recommendations (
       user_id INTEGER NOT NULL,
       movie_id INTEGER NOT NULL,
       rank INTEGER NOT NULL,
       score REAL NOT NULL,
       model VARCHAR NOT NULL,
       model_name VARCHAR,
       model_version INTEGER,
       run_id VARCHAR,
       created_at TIMESTAMPTZ NOT NULL${dialect === 'duckdb' ? ',\n       UNIQUE (model, model_name, model_version, user_id, rank)' : ''}
     )`,
    ...(dialect === 'postgres'
      ? [
          'CREATE UNIQUE INDEX IF NOT EXISTS batch_recommendations_key ON batch_recommendations ' +
            "(model, COALESCE(model_name, ''), COALESCE(model_version, 0), user_id, rank)",
        ]
      : []),
  ];
}

/** Columns of batch_recommendations in table order (what the writers insert). */
export const BATCH_COLUMNS = [
  'user_id',
  'movie_id',
  'rank',
  'score',
  'model',
  'model_name',
  'model_version',
  'run_id',
  'created_at',
] as const;

/**
 * Brings a batch_recommendations table of the first schema (no model_name / model_version, primary key (model,
 * user_id, rank)) to the current one, keeping its rows (their version columns null): renamed, recreated, copied,
 * dropped, in one transaction. `ddl` is batchDdl's; `hasVersionColumn` and `run` come from the writer's connection.
 */
export async function migrateBatchTable(
  ddl: string[],
  run: (sql: string) => Promise<unknown>,
  hasVersionColumn: () => Promise<boolean | null>,
): Promise<void> {
  const state = await hasVersionColumn();
  if (state !== false) return; // null: no table yet; true: current schema
  await run('BEGIN');
  try {
    await run('ALTER TABLE batch_recommendations RENAME TO batch_recommendations_v1');
    for (const sql of ddl.slice(2)) await run(sql);
    await run(
      `INSERT INTO batch_recommendations (${BATCH_COLUMNS.join(', ')}) ` +
        'SELECT user_id, movie_id, rank, score, model, NULL, NULL, run_id, created_at FROM batch_recommendations_v1',
    );
    await run('DROP TABLE batch_recommendations_v1');
    await run('COMMIT');
  } catch (err) {
    await run('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** SQL asking whether batch_recommendations has model_version: a row per match among its columns. */
export const VERSION_COLUMN_QUERY =
  "SELECT column_name FROM information_schema.columns WHERE table_name = 'batch_recommendations' " +
  "AND table_schema = current_schema() AND column_name IN ('model', 'model_version')";

/** The DELETE that makes room for a batch: parameters $1 label, $2 model name, $3 model version. */
export function batchDeleteSql(source: BatchSource): { sql: string; params: Array<string | number | null> } {
  if (source.replaceAll)
    return { sql: 'DELETE FROM batch_recommendations WHERE model = $1', params: [source.label] };
  return {
    sql:
      'DELETE FROM batch_recommendations WHERE model = $1 AND model_name IS NOT DISTINCT FROM CAST($2 AS VARCHAR) ' +
      'AND model_version IS NOT DISTINCT FROM CAST($3 AS INTEGER)',
    params: [source.label, source.modelName, source.modelVersion],
  };
}
