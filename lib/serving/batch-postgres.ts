import { Client } from 'pg';
import { ConfigError } from '../util/errors';
import {
  BATCH_COLUMNS,
  type BatchSource,
  type BatchSummary,
  batchDdl,
  batchDeleteSql,
  migrateBatchTable,
  VERSION_COLUMN_QUERY,
} from './batch';
import { batchSummary } from './batch-duckdb';

/** Rows per INSERT … SELECT FROM unnest(…) statement. */
const CHUNK = 20_000;

/**
 * Writes a batch into PostgreSQL (`url`: a postgres:// connection string; `?host=/socket/dir` works for unix
 * sockets) with the schema of batchDdl. One transaction: users and movies are upserted, the rows of the batch's
 * (label, model name, model version) — or of its label, with `replaceAll` — are deleted and the new rows inserted,
 * then COMMIT. Readers (any isolation level) see the previous rows until the commit and all new rows after it, never
 * a part; rows of other versions are not touched. Any error (also one thrown by `source.rows` midway) rolls it
 * back, leaving the previous batch. Writers take a table lock that readers do not wait for, so two batches never
 * interleave.
 */
export async function writeBatchPostgres(url: string, source: BatchSource): Promise<BatchSummary> {
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError('--postgres', `expected a postgres:// or postgresql:// URL, got "${redact(url)}"`);
  const started = performance.now();
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const ddl = batchDdl('postgres');
    for (const sql of ddl.slice(0, 2)) await client.query(sql);
    await migrateBatchTable(
      ddl,
      (sql) => client.query(sql),
      async () => {
        const cols = (await client.query(VERSION_COLUMN_QUERY)).rows.map((r) => r.column_name as string);
        return cols.length === 0 ? null : cols.includes('model_version');
      },
    );
    for (const sql of ddl.slice(2)) await client.query(sql);
    await client.query('BEGIN');
    try {
      // Serialises writers (SHARE ROW EXCLUSIVE conflicts with itself); plain SELECTs are not blocked.
      await client.query('LOCK TABLE batch_recommendations IN SHARE ROW EXCLUSIVE MODE');
      const total = await writeRows(client, source);
      await client.query('COMMIT');
      return batchSummary(`postgres:${redact(url)}`, source, total, started);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    await client.end();
  }
}

async function writeRows(client: Client, source: BatchSource): Promise<number> {
  const { users, movies } = source;
  for (let s = 0; s < users.userIds.length; s += CHUNK) {
    const e = Math.min(users.userIds.length, s + CHUNK);
    await client.query(
      'INSERT INTO users (user_id, ratings) SELECT * FROM unnest($1::int[], $2::int[]) ' +
        'ON CONFLICT (user_id) DO UPDATE SET ratings = EXCLUDED.ratings',
      [Array.from(users.userIds.subarray(s, e)), Array.from(users.ratings.subarray(s, e))],
    );
  }
  for (let s = 0; s < movies.movieIds.length; s += CHUNK) {
    const e = Math.min(movies.movieIds.length, s + CHUNK);
    await client.query(
      'INSERT INTO movies (movie_id, title, genres, year) SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) ' +
        'ON CONFLICT (movie_id) DO UPDATE SET title = EXCLUDED.title, genres = EXCLUDED.genres, year = EXCLUDED.year',
      [
        Array.from(movies.movieIds.subarray(s, e)),
        movies.titles.slice(s, e),
        movies.genres.slice(s, e),
        movies.years.slice(s, e),
      ],
    );
  }
  const del = batchDeleteSql(source);
  await client.query(del.sql, del.params);
  let total = 0;
  for await (const block of source.rows) {
    for (let s = 0; s < block.userIds.length; s += CHUNK) {
      const e = Math.min(block.userIds.length, s + CHUNK);
      await client.query(
        `INSERT INTO batch_recommendations (${BATCH_COLUMNS.join(', ')}) ` +
          'SELECT u, m, r, sc, $5, $6::varchar, $7::int, $8::varchar, $9 FROM unnest($1::int[], $2::int[], $3::int[], $4::real[]) AS t(u, m, r, sc)',
        [
          Array.from(block.userIds.subarray(s, e)),
          Array.from(block.movieIds.subarray(s, e)),
          Array.from(block.ranks.subarray(s, e)),
          Array.from(block.scores.subarray(s, e)),
          source.label,
          source.modelName,
          source.modelVersion,
          source.runId,
          source.createdAt,
        ],
      );
    }
    total += block.userIds.length;
  }
  return total;
}

/** The URL with any password replaced, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
