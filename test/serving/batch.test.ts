import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../lib/serving/artifact';
import { type BatchSource, type BatchSummary, batchSource } from '../../lib/serving/batch';
import { writeBatchDuckDb, writeBatchParquet } from '../../lib/serving/batch-duckdb';
import { writeBatchPostgres } from '../../lib/serving/batch-postgres';
import { RecommendationService } from '../../lib/serving/service';
import { train } from '../../lib/workflows/train';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { useTempDir } from '../helpers/mlflow';
import { type Component, requireComponent } from '../helpers/require';
import { type PostgresCluster, postgresComponent, startPostgres } from './postgres';

const K = 5;
const USERS = 610;

interface Row {
  user_id: number;
  movie_id: number;
  rank: number;
  score: number;
  model: string;
  run_id: string | null;
  created: string;
}

type Query = (sql: string) => Promise<Row[] & Array<Record<string, unknown>>>;

let trained: Promise<RecommendationService> | null = null;
let modelDir = '';

/** One small SVD on ml-latest-small for all targets (factor path: scored by the parallel ranking kernel). */
function trainedOnce(): Promise<RecommendationService> {
  trained ??= train({
    dataset: 'ml-latest-small',
    model: 'svd',
    params: { factors: 16, epochs: 5, seed: 9 },
    out: join(modelDir, 'model'),
    dataDir: realDataDir(),
  }).then(() => RecommendationService.open(join(modelDir, 'model')));
  return trained;
}

/** The source with its rows failing after `blocks` blocks; `pulled` counts what the writer consumed. */
function failingAfter(source: BatchSource, blocks: number, pulled: { blocks: number }): BatchSource {
  const inner = source.rows;
  async function* rows() {
    for await (const block of inner) {
      if (pulled.blocks === blocks) throw new Error('injected failure in the middle of the batch');
      pulled.blocks++;
      yield block;
    }
  }
  return { ...source, rows: rows() };
}

/**
 * The checks every target must pass; `query` runs SQL against the target and returns plain rows. `needs` is the
 * component the target needs beyond Node (missing: fails under CI, skips with the reason elsewhere).
 */
function batchContract(
  name: string,
  needs: Component | null,
  write: (source: BatchSource) => Promise<BatchSummary>,
  query: () => Query,
  fingerprint?: () => string,
) {
  describe(name, () => {
    let loaded: LoadedModel;
    let service: RecommendationService;
    const first = new Date('2026-01-02T03:04:05.000Z');

    beforeAll(async () => {
      if (needs && !needs.available) return; // each test then fails (CI) or skips with the reason
      service = await trainedOnce();
      loaded = service.loaded;
    });

    it('writes top-k for every user, in the users/movies/batch_recommendations schema', async (ctx) => {
      if (needs) requireComponent(ctx, needs);
      const summary = await write(
        batchSource(loaded, { k: K, createdAt: first, threads: 2, blockUsers: 100 }),
      );
      expect(summary).toMatchObject({ label: 'svd', users: USERS, movies: 9724, rows: USERS * K, k: K });
      const q = query();
      expect(await q('SELECT count(*)::INTEGER AS n FROM users')).toEqual([{ n: USERS }]);
      expect(await q('SELECT count(*)::INTEGER AS n FROM movies')).toEqual([{ n: 9724 }]);
      const title = await q('SELECT title, genres, year FROM movies WHERE movie_id = 1');
      expect(title).toEqual([
        { title: 'Toy Story (1995)', genres: 'Adventure|Animation|Children|Comedy|Fantasy', year: 1995 },
      ]);
      const rows = await q(
        "SELECT user_id, movie_id, rank, score, model, run_id, CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR) AS created " +
          'FROM batch_recommendations ORDER BY user_id, rank',
      );
      expect(rows).toHaveLength(USERS * K);
      expect(new Set(rows.map((r) => r.created))).toEqual(
        new Set([expect.stringMatching(/^2026-01-02 03:04:05/)]),
      );
      for (const userId of [1, 77, 414, 610]) {
        const mine = rows.filter((r) => r.user_id === userId);
        expect(mine.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
        const expected = service.recommendForUser(userId, K);
        expect(mine.map((r) => r.movie_id)).toEqual(expected.items.map((i) => i.movieId));
        mine.forEach((r, j) => {
          expect(r.score).toBeCloseTo(expected.items[j]!.score, 4);
        });
        const u = loaded.view.users.index(userId);
        const seen = new Set(
          loaded.view.seenIndices.subarray(loaded.view.seenIndptr[u]!, loaded.view.seenIndptr[u + 1]!),
        );
        for (const r of mine) expect(seen.has(loaded.view.items.index(r.movie_id))).toBe(false);
        expect(mine[0]).toMatchObject({ model: 'svd', run_id: null });
      }
    });

    it('a failure in the middle of a new batch leaves the previous batch intact', async (ctx) => {
      if (needs) requireComponent(ctx, needs);
      const q = query();
      const before = await q(
        'SELECT user_id, movie_id, rank, score FROM batch_recommendations ORDER BY user_id, rank',
      );
      const print = fingerprint?.();
      const pulled = { blocks: 0 };
      const source = failingAfter(
        batchSource(loaded, { k: K, createdAt: new Date(), blockUsers: 100 }),
        3,
        pulled,
      );
      await expect(write(source)).rejects.toThrow('injected failure in the middle of the batch');
      expect(pulled.blocks).toBe(3); // 300 users' rows were written inside the transaction before it failed
      expect(
        await q('SELECT user_id, movie_id, rank, score FROM batch_recommendations ORDER BY user_id, rank'),
      ).toEqual(before);
      const created = await q(
        "SELECT DISTINCT CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR) AS created FROM batch_recommendations",
      );
      expect(created).toEqual([{ created: expect.stringMatching(/^2026-01-02 03:04:05/) }]);
      if (fingerprint) expect(fingerprint()).toBe(print);
    });

    it('a new batch replaces only the rows of its own label', async (ctx) => {
      if (needs) requireComponent(ctx, needs);
      await write(
        batchSource(loaded, { k: 2, label: 'svd-small', createdAt: new Date('2026-02-01T00:00:00Z') }),
      );
      await write(batchSource(loaded, { k: 3, createdAt: new Date('2026-03-01T00:00:00Z') }));
      const q = query();
      const counts = await q(
        'SELECT model, count(*)::INTEGER AS n FROM batch_recommendations GROUP BY model ORDER BY model',
      );
      expect(counts).toEqual([
        { model: 'svd', n: USERS * 3 },
        { model: 'svd-small', n: USERS * 2 },
      ]);
    });
  });
}

function duckQuery(path: string): Query {
  return async (sql) => {
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    try {
      return (await c.runAndReadAll(sql)).getRowObjectsJS() as unknown as Row[] &
        Array<Record<string, unknown>>;
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  };
}

describe.runIf(HAS_ML_LATEST_SMALL)('batch recommendations on ml-latest-small', () => {
  const dir = useTempDir('reelab-batch-out-');
  beforeAll(() => {
    modelDir = dir();
  });

  batchContract(
    'DuckDB file',
    null,
    (s) => writeBatchDuckDb(join(dir(), 'batch.duckdb'), s),
    () => duckQuery(join(dir(), 'batch.duckdb')),
  );

  // Parquet files are queried through an in-memory DuckDB over views of the three files.
  const parquetQuery = (): Query => {
    const d = join(dir(), 'parquet');
    const views = ['users', 'movies', 'batch_recommendations']
      .map((t) => `CREATE VIEW ${t} AS SELECT * FROM read_parquet('${join(d, `${t}.parquet`)}');`)
      .join(' ');
    return async (sql) => {
      const instance = await DuckDBInstance.create(':memory:');
      const c = await instance.connect();
      try {
        await c.run(views);
        return (await c.runAndReadAll(sql)).getRowObjectsJS() as unknown as Row[] &
          Array<Record<string, unknown>>;
      } finally {
        c.closeSync();
        instance.closeSync();
      }
    };
  };
  batchContract(
    'Parquet files',
    null,
    (s) => writeBatchParquet(join(dir(), 'parquet'), s),
    parquetQuery,
    () =>
      ['users', 'movies', 'batch_recommendations']
        .map((t) =>
          createHash('sha256')
            .update(readFileSync(join(dir(), 'parquet', `${t}.parquet`)))
            .digest('hex'),
        )
        .join(','),
  );

  const postgres = postgresComponent();
  let cluster: PostgresCluster | null = null;
  beforeAll(async () => {
    // Binaries present: the cluster must start (a failure here fails the tests, it does not skip them).
    if (postgres.available) cluster = await startPostgres(postgres.binDir);
  });
  afterAll(() => cluster?.stop());
  const pgQuery = (): Query => async (sql) => {
    const client = new Client({ connectionString: cluster!.url });
    await client.connect();
    try {
      // REAL comes back as a number, COUNT as INTEGER by the casts; keep timestamps as text via the SQL.
      const res = await client.query(sql.replace(/::INTEGER/g, '::int').replace(/AS VARCHAR/g, 'AS text'));
      return res.rows as Row[] & Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };
  batchContract(
    'PostgreSQL (a real server started for the test)',
    postgres,
    (s) => writeBatchPostgres(cluster!.url, s),
    pgQuery,
  );
});
