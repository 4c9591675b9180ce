import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedModel, loadServingModel } from '../../lib/serving/artifact';
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
  model_name: string | null;
  model_version: number | null;
  run_id: string | null;
  created: string;
  n: number;
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

const RUN_V1 = 'a1'.repeat(16);
const RUN_V2 = 'b2'.repeat(16);

/**
 * The trained model as version `version` of the registered model "recs": a copy of its folder with the
 * `.registry.json` a `models:/recs/<version>` download leaves (lib/tracking/registry.ts), loaded the way
 * `reelab batch --model models:/…` loads it.
 */
async function registryVersion(loaded: LoadedModel, version: number, runId: string): Promise<LoadedModel> {
  const dir = join(modelDir, `registry-recs-${version}`);
  if (!existsSync(dir)) {
    cpSync(loaded.dir, dir, { recursive: true });
    const registry = {
      uri: `models:/recs/${version}`,
      name: 'recs',
      version: String(version),
      alias: null,
      runId,
      source: `mlflow-artifacts:/1/${runId}/artifacts/model`,
      trackingUri: 'http://127.0.0.1:9',
    };
    writeFileSync(join(dir, '.registry.json'), `${JSON.stringify(registry)}\n`);
  }
  return loadServingModel(dir);
}

/** The source with its rows pausing `ms` before each block (a long transaction for concurrent readers). */
function slowed(source: BatchSource, ms: number, pulled: { blocks: number }): BatchSource {
  const inner = source.rows;
  async function* rows() {
    for await (const block of inner) {
      await sleep(ms);
      pulled.blocks++;
      yield block;
    }
  }
  return { ...source, rows: rows() };
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
  concurrentReaders = false,
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
      const versions = await q('SELECT DISTINCT model_name, model_version FROM batch_recommendations');
      expect(versions).toEqual([{ model_name: null, model_version: null }]);
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

    const versionCounts = (q: Query) =>
      q(
        'SELECT model, model_name, model_version, run_id, count(*)::INTEGER AS n, ' +
          "CAST(min(created_at) AT TIME ZONE 'UTC' AS VARCHAR) AS created FROM batch_recommendations " +
          'GROUP BY model, model_name, model_version, run_id ORDER BY model, model_version NULLS FIRST',
      );
    const versionRows = (q: Query, version: number) =>
      q(
        'SELECT user_id, movie_id, rank, score, run_id, ' +
          "CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR) AS created FROM batch_recommendations " +
          `WHERE model_name = 'recs' AND model_version = ${version} ORDER BY user_id, rank`,
      );

    it("registry versions: each version's rows stay; a re-run replaces only its own version's rows", async (ctx) => {
      if (needs) requireComponent(ctx, needs);
      const v1 = await registryVersion(loaded, 1, RUN_V1);
      const v2 = await registryVersion(loaded, 2, RUN_V2);
      const one = await write(batchSource(v1, { k: 4, createdAt: new Date('2026-04-01T00:00:00Z') }));
      expect(one).toMatchObject({
        label: 'recs',
        modelName: 'recs',
        modelVersion: 1,
        runId: RUN_V1,
        rows: USERS * 4,
      });
      await write(batchSource(v2, { k: 2, createdAt: new Date('2026-04-02T00:00:00Z') }));
      const q = query();
      const v1Before = await versionRows(q, 1);
      expect(await versionCounts(q)).toEqual([
        {
          model: 'recs',
          model_name: 'recs',
          model_version: 1,
          run_id: RUN_V1,
          n: USERS * 4,
          created: expect.stringMatching(/^2026-04-01 00:00:00/),
        },
        {
          model: 'recs',
          model_name: 'recs',
          model_version: 2,
          run_id: RUN_V2,
          n: USERS * 2,
          created: expect.stringMatching(/^2026-04-02 00:00:00/),
        },
        {
          model: 'svd',
          model_name: null,
          model_version: null,
          run_id: null,
          n: USERS * 3,
          created: expect.any(String),
        },
        {
          model: 'svd-small',
          model_name: null,
          model_version: null,
          run_id: null,
          n: USERS * 2,
          created: expect.any(String),
        },
      ]);

      // Version 2 again (longer lists, a new time): its rows replaced exactly, version 1's untouched.
      const again = await write(batchSource(v2, { k: 3, createdAt: new Date('2026-04-03T00:00:00Z') }));
      expect(again).toMatchObject({ modelVersion: 2, replaced: 'version', rows: USERS * 3 });
      expect(await versionRows(q, 1)).toEqual(v1Before);
      const v2Rows = await versionRows(q, 2);
      expect(v2Rows).toHaveLength(USERS * 3);
      expect(new Set(v2Rows.map((r) => r.created))).toEqual(
        new Set([expect.stringMatching(/^2026-04-03 00:00:00/)]),
      );
      expect(new Set(v2Rows.map((r) => r.run_id))).toEqual(new Set([RUN_V2]));
      for (const userId of [1, 610]) {
        const expected = service.recommendForUser(userId, 3).items.map((i) => i.movieId);
        expect(v2Rows.filter((r) => r.user_id === userId).map((r) => r.movie_id)).toEqual(expected);
      }
      expect((await versionCounts(q)).map((r) => [r.model, r.model_version, r.n])).toEqual([
        ['recs', 1, USERS * 4],
        ['recs', 2, USERS * 3],
        ['svd', null, USERS * 3],
        ['svd-small', null, USERS * 2],
      ]);
    });

    it('--replace-all replaces every version of the label and nothing else', async (ctx) => {
      if (needs) requireComponent(ctx, needs);
      const v2 = await registryVersion(loaded, 2, RUN_V2);
      const summary = await write(
        batchSource(v2, { k: 2, createdAt: new Date('2026-04-04T00:00:00Z'), replaceAll: true }),
      );
      expect(summary).toMatchObject({ replaced: 'label', rows: USERS * 2 });
      expect((await versionCounts(query())).map((r) => [r.model, r.model_version, r.n])).toEqual([
        ['recs', 2, USERS * 2],
        ['svd', null, USERS * 3],
        ['svd-small', null, USERS * 2],
      ]);
    });

    // DuckDB's file target allows one writing process, so only targets with concurrent readers get this test.
    if (concurrentReaders)
      it('a reader polling during a re-run sees the old or the new complete set of version rows, never a part', async (ctx) => {
        if (needs) requireComponent(ctx, needs);
        const v1 = await registryVersion(loaded, 1, RUN_V1);
        const v2 = await registryVersion(loaded, 2, RUN_V2);
        await write(batchSource(v1, { k: 4, createdAt: new Date('2026-05-01T00:00:00Z') }));
        await write(batchSource(v2, { k: 2, createdAt: new Date('2026-05-02T00:00:00Z') }));
        const q = query();
        const v1Before = await versionRows(q, 1);
        const state = async () => {
          const [row] = await q(
            "SELECT count(*)::INTEGER AS n, CAST(min(created_at) AT TIME ZONE 'UTC' AS VARCHAR) AS created, " +
              "CAST(max(created_at) AT TIME ZONE 'UTC' AS VARCHAR) AS latest FROM batch_recommendations " +
              "WHERE model_name = 'recs' AND model_version = 2",
          );
          return `${row!.n} ${String(row!.created).slice(0, 19)} ${String(row!.latest).slice(0, 19)}`;
        };
        const OLD = `${USERS * 2} 2026-05-02 00:00:00 2026-05-02 00:00:00`;
        const NEW = `${USERS * 3} 2026-05-03 00:00:00 2026-05-03 00:00:00`;
        const pulled = { blocks: 0 };
        let done = false;
        const writing = write(
          slowed(
            batchSource(v2, { k: 3, createdAt: new Date('2026-05-03T00:00:00Z'), blockUsers: 40 }),
            25,
            pulled,
          ),
        ).finally(() => {
          done = true;
        });
        const seen: Array<{ state: string; blocks: number }> = [];
        while (!done) {
          const blocks = pulled.blocks;
          seen.push({ state: await state(), blocks });
          await sleep(5);
        }
        await writing;
        seen.push({ state: await state(), blocks: pulled.blocks });
        const states = new Set(seen.map((s) => s.state));
        for (const s of states) expect([OLD, NEW]).toContain(s);
        // The reader ran while the writer was in the middle of version 2 (blocks already inserted, not committed).
        expect(seen.some((s) => s.state === OLD && s.blocks >= 2 && s.blocks < 16)).toBe(true);
        expect(seen.at(-1)!.state).toBe(NEW);
        expect(await versionRows(q, 1)).toEqual(v1Before);
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

  it('a DuckDB file of the first schema (no version columns) is migrated, its rows kept with null versions', async () => {
    const path = join(dir(), 'first-schema.duckdb');
    {
      const instance = await DuckDBInstance.create(path);
      const c = await instance.connect();
      await c.run(`CREATE TABLE batch_recommendations (user_id INTEGER NOT NULL, movie_id INTEGER NOT NULL,
        rank INTEGER NOT NULL, score REAL NOT NULL, model VARCHAR NOT NULL, run_id VARCHAR,
        created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (model, user_id, rank))`);
      await c.run(
        "INSERT INTO batch_recommendations VALUES (1, 1, 1, 4.5, 'old', NULL, '2025-01-01T00:00:00Z')",
      );
      c.closeSync();
      instance.closeSync();
    }
    const service = await trainedOnce();
    const v1 = await registryVersion(service.loaded, 1, RUN_V1);
    await writeBatchDuckDb(path, batchSource(v1, { k: 2 }));
    await writeBatchDuckDb(path, batchSource(v1, { k: 2 })); // the same version again: replaced, not doubled
    const rows = await duckQuery(path)(
      'SELECT model, model_name, model_version, count(*)::INTEGER AS n FROM batch_recommendations ' +
        'GROUP BY ALL ORDER BY model',
    );
    expect(rows).toEqual([
      { model: 'old', model_name: null, model_version: null, n: 1 },
      { model: 'recs', model_name: 'recs', model_version: 1, n: USERS * 2 },
    ]);
  });

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
    true,
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
    undefined,
    true,
  );
});
