import { Client } from 'pg';
import { ConfigError } from '../util/errors';
import { BATCH_DDL, type BatchSource, type BatchSummary } from './batch';
import { batchSummary } from './batch-duckdb';

/** Rows per INSERT … SELECT FROM unnest(…) statement. */
const CHUNK = 20_000;

/**
 * Writes a batch into PostgreSQL (`url`: a postgres:// connection string; `?host=/socket/dir` works for unix
 * sockets) with the schema of BATCH_DDL. One transaction: users and movies are upserted, the rows with the batch's
 * label are replaced; any error (also one thrown by `source.rows` midway) rolls it back, leaving the previous batch.
 */
export async function writeBatchPostgres(url: string, source: BatchSource): Promise<BatchSummary> {
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError('--postgres', `expected a postgres:// or postgresql:// URL, got "${redact(url)}"`);
  const started = performance.now();
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const ddl of BATCH_DDL) await client.query(ddl);
    await client.query('BEGIN');
    try {
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
  await client.query('DELETE FROM batch_recommendations WHERE model = $1', [source.label]);
  let total = 0;
  for await (const block of source.rows) {
    for (let s = 0; s < block.userIds.length; s += CHUNK) {
      const e = Math.min(block.userIds.length, s + CHUNK);
      await client.query(
        'INSERT INTO batch_recommendations (user_id, movie_id, rank, score, model, run_id, created_at) ' +
          'SELECT u, m, r, sc, $5, $6, $7 FROM unnest($1::int[], $2::int[], $3::int[], $4::real[]) AS t(u, m, r, sc)',
        [
          Array.from(block.userIds.subarray(s, e)),
          Array.from(block.movieIds.subarray(s, e)),
          Array.from(block.ranks.subarray(s, e)),
          Array.from(block.scores.subarray(s, e)),
          source.label,
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
