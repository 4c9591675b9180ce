import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import {
  type BatchSource,
  type BatchSummary,
  batchDdl,
  batchDeleteSql,
  migrateBatchTable,
  VERSION_COLUMN_QUERY,
} from './batch';

const TABLES = ['users', 'movies', 'batch_recommendations'] as const;
const DDL = batchDdl('duckdb');

/**
 * Writes a batch into a DuckDB database file (created when missing) with the schema of batchDdl. One
 * transaction: users and movies are upserted, the rows of the batch's (label, model name, model version) — or of
 * its label, with `replaceAll` — are replaced; rows of other versions stay. On any error (also one thrown by
 * `source.rows` midway) the transaction rolls back and the previous batch stays as it was.
 */
export async function writeBatchDuckDb(path: string, source: BatchSource): Promise<BatchSummary> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(resolve(path));
  try {
    const connection = await instance.connect();
    try {
      const rows = await writeInto(connection, source);
      return batchSummary(`duckdb:${resolve(path)}`, source, rows, started);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/**
 * Writes a batch as Parquet files users.parquet, movies.parquet and batch_recommendations.parquet in `dir`. The
 * existing files are read first (by column name, so files of the first schema, without model_name and
 * model_version, load with those null), so rows of other labels and versions are kept as in the database writers;
 * new files are written under temporary names and renamed into place only after all three succeeded — a reader
 * opens either the old or the new batch_recommendations.parquet, never a partial one.
 */
export async function writeBatchParquet(dir: string, source: BatchSource): Promise<BatchSummary> {
  const started = performance.now();
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const tmp = (t: string) => join(out, `.${t}.parquet.tmp-${process.pid}`);
  try {
    for (const sql of DDL) await connection.run(sql);
    for (const t of TABLES) {
      const file = join(out, `${t}.parquet`);
      if (existsSync(file))
        await connection.run(`INSERT INTO ${t} BY NAME SELECT * FROM read_parquet(${quote(file)})`);
    }
    const rows = await writeInto(connection, source);
    for (const t of TABLES) {
      const order =
        t === 'batch_recommendations'
          ? 'model, model_name NULLS FIRST, model_version NULLS FIRST, user_id, rank'
          : t === 'users'
            ? 'user_id'
            : 'movie_id';
      await connection.run(
        `COPY (SELECT * FROM ${t} ORDER BY ${order}) TO ${quote(tmp(t))} (FORMAT parquet)`,
      );
    }
    for (const t of TABLES) renameSync(tmp(t), join(out, `${t}.parquet`));
    return batchSummary(`parquet:${out}`, source, rows, started);
  } finally {
    for (const t of TABLES) rmSync(tmp(t), { force: true });
    connection.closeSync();
    instance.closeSync();
  }
}

async function writeInto(c: DuckDBConnection, source: BatchSource): Promise<number> {
  for (const sql of DDL.slice(0, 2)) await c.run(sql);
  await migrateBatchTable(
    DDL,
    (sql) => c.run(sql),
    async () => {
      const cols = (await c.runAndReadAll(VERSION_COLUMN_QUERY)).getRowObjectsJS().map((r) => r.column_name);
      return cols.length === 0 ? null : cols.includes('model_version');
    },
  );
  for (const sql of DDL.slice(2)) await c.run(sql);
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run('CREATE TEMP TABLE users_stage (user_id INTEGER, ratings INTEGER)');
    const users = await c.createAppender('users_stage');
    for (let r = 0; r < source.users.userIds.length; r++) {
      users.appendInteger(source.users.userIds[r]!);
      users.appendInteger(source.users.ratings[r]!);
      users.endRow();
    }
    users.closeSync();
    await c.run(
      'INSERT INTO users SELECT * FROM users_stage ON CONFLICT (user_id) DO UPDATE SET ratings = EXCLUDED.ratings',
    );
    await c.run(
      'CREATE TEMP TABLE movies_stage (movie_id INTEGER, title VARCHAR, genres VARCHAR, year INTEGER)',
    );
    const movies = await c.createAppender('movies_stage');
    const m = source.movies;
    for (let r = 0; r < m.movieIds.length; r++) {
      movies.appendInteger(m.movieIds[r]!);
      movies.appendVarchar(m.titles[r]!);
      movies.appendVarchar(m.genres[r]!);
      const year = m.years[r];
      if (year === null || year === undefined) movies.appendNull();
      else movies.appendInteger(year);
      movies.endRow();
    }
    movies.closeSync();
    await c.run(
      'INSERT INTO movies SELECT * FROM movies_stage ON CONFLICT (movie_id) DO UPDATE SET ' +
        'title = EXCLUDED.title, genres = EXCLUDED.genres, year = EXCLUDED.year',
    );
    await c.run('DROP TABLE users_stage');
    await c.run('DROP TABLE movies_stage');
    const del = batchDeleteSql(source);
    await c.run(del.sql, del.params);
    const created = new DuckDBTimestampTZValue(BigInt(source.createdAt.getTime()) * BigInt(1000));
    const recs = await c.createAppender('batch_recommendations');
    let total = 0;
    try {
      for await (const block of source.rows) {
        for (let r = 0; r < block.userIds.length; r++) {
          recs.appendInteger(block.userIds[r]!);
          recs.appendInteger(block.movieIds[r]!);
          recs.appendInteger(block.ranks[r]!);
          recs.appendFloat(block.scores[r]!);
          recs.appendVarchar(source.label);
          if (source.modelName === null) recs.appendNull();
          else recs.appendVarchar(source.modelName);
          if (source.modelVersion === null) recs.appendNull();
          else recs.appendInteger(source.modelVersion);
          if (source.runId === null) recs.appendNull();
          else recs.appendVarchar(source.runId);
          recs.appendTimestampTZ(created);
          recs.endRow();
        }
        total += block.userIds.length;
        recs.flushSync();
      }
    } catch (err) {
      // Closing after a failure fails too (the transaction is aborted); keep the first error.
      try {
        recs.closeSync();
      } catch {}
      throw err;
    }
    recs.closeSync();
    await c.run('COMMIT');
    return total;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function batchSummary(
  target: string,
  source: BatchSource,
  rows: number,
  started: number,
): BatchSummary {
  return {
    target,
    label: source.label,
    modelName: source.modelName,
    modelVersion: source.modelVersion,
    runId: source.runId,
    replaced: source.replaceAll ? 'label' : 'version',
    createdAt: source.createdAt.toISOString(),
    k: source.k,
    users: source.users.userIds.length,
    movies: source.movies.movieIds.length,
    rows,
    seconds: (performance.now() - started) / 1000,
  };
}
