import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadServingModel } from '../../lib/serving/artifact';
import { artifactProxyRoot } from '../../lib/tracking/artifacts';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { rawMlflow, tagsOf, useMlflowServer, useTempDir } from '../helpers/mlflow';
import { realUserRatings } from './helpers';

const run = promisify(execFile);
const reelab = (args: string[], env: Record<string, string> = {}) =>
  run('node', ['bin/reelab.js', ...args], {
    env: { ...process.env, MLFLOW_TRACKING_URI: '', ...env },
    maxBuffer: 1 << 24,
  });

function oneJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

type Rec = { movieId: number; title: string; score: number };

describe.runIf(HAS_ML_LATEST_SMALL)('reelab train / recommend on ml-latest-small', () => {
  const tmp = useTempDir('reelab-train-');
  const mlflow = useMlflowServer();

  it('train --json saves a servable model folder with dataset hash, metrics and movies; recommend reads it', async () => {
    const out = join(tmp(), 'baseline');
    const { stdout } = await reelab([
      'train',
      '--dataset',
      'ml-latest-small',
      '--data-dir',
      realDataDir(),
      '--split',
      'random:0.2',
      '--model',
      'baseline',
      '--out',
      out,
      '--no-track',
      '--json',
    ]);
    const r = oneJsonObject(stdout);
    const sha = createHash('sha256')
      .update(readFileSync(join(realDataDir(), 'ml-latest-small', 'ratings.csv')))
      .digest('hex');
    expect(r).toMatchObject({
      model: 'baseline',
      dataset: 'ml-latest-small',
      split: 'random:0.2',
      users: 610,
      datasetSha256: sha,
      runId: null,
    });
    const rmse = (r.metrics as Record<string, number>).rmse!;
    expect(rmse).toBeGreaterThan(0.8);
    expect(rmse).toBeLessThan(0.95);
    for (const f of [
      'model.json',
      'movies.json',
      'ids.users.i32',
      'ids.items.i32',
      'userBias.f32',
      'itemBias.f32',
    ])
      expect(existsSync(join(out, f))).toBe(true);
    const loaded = await loadServingModel(out);
    expect(loaded.meta).toMatchObject({
      dataset: 'ml-latest-small',
      datasetSha256: sha,
      split: 'random:0.2',
      ratingMin: 0.5,
      ratingMax: 5,
    });
    expect(loaded.movies.size).toBe(loaded.view.items.size);

    // recommend --json: one object, MovieLens ids, the user's training movies left out
    const rec = oneJsonObject(
      (await reelab(['recommend', '--model', out, '--user', '414', '-k', '10', '--json'])).stdout,
    );
    expect(rec.user).toBe(414);
    const items = rec.items as Rec[];
    expect(items).toHaveLength(10);
    const trainSeen = new Set(
      Array.from(
        loaded.view.seenIndices.subarray(
          loaded.view.seenIndptr[loaded.view.users.index(414)]!,
          loaded.view.seenIndptr[loaded.view.users.index(414) + 1]!,
        ),
      ).map((i) => loaded.view.items.id(i)),
    );
    expect(trainSeen.size).toBeGreaterThan(1000); // user 414 rated 2698 movies; ~80% are in training
    for (const it of items) {
      expect(trainSeen.has(it.movieId)).toBe(false);
      expect(it.title).toBe(loaded.movies.titles[loaded.view.items.index(it.movieId)]);
    }
    // the baseline's list is μ + b_u + b_i ordered by b_i: best first
    for (let k = 1; k < items.length; k++) expect(items[k]!.score).toBeLessThanOrEqual(items[k - 1]!.score);
  });

  it('recommend: cold start from a ratings file, and clear errors', async () => {
    const out = join(tmp(), 'svd');
    await reelab([
      'train',
      '--dataset',
      'ml-latest-small',
      '--data-dir',
      realDataDir(),
      '--model',
      'svd',
      '--set',
      'factors=16',
      '--set',
      'epochs=5',
      '--out',
      out,
      '--no-track',
      '--json',
    ]);
    const file = join(tmp(), 'ratings.json');
    writeFileSync(
      file,
      JSON.stringify([
        { movieId: 1, rating: 5 },
        { movieId: 260, rating: 4.5 },
        { movieId: 5, rating: 1 },
      ]),
    );
    const cold = oneJsonObject(
      (await reelab(['recommend', '--model', out, '--ratings', file, '-k', '5', '--json'])).stdout,
    );
    expect(cold).toMatchObject({ model: 'svd', method: 'factors-explicit', used: 3 });
    const ids = (cold.items as Rec[]).map((i) => i.movieId);
    expect(ids).toHaveLength(5);
    for (const id of [1, 260, 5]) expect(ids).not.toContain(id);

    // A user of the full data: all their movies are seen in training → none recommended.
    const seen = realUserRatings(7);
    const top = oneJsonObject(
      (await reelab(['recommend', '--model', out, '--user', '7', '-k', '20', '--json'])).stdout,
    );
    for (const it of top.items as Rec[]) expect(seen.has(it.movieId)).toBe(false);

    // batch --json: one summary object; the DuckDB file holds top-k for all 610 users
    const batch = oneJsonObject(
      (await reelab(['batch', '--model', out, '-k', '3', '--duckdb', join(tmp(), 'b.duckdb'), '--json']))
        .stdout,
    );
    expect(batch).toMatchObject({
      model: 'svd',
      k: 3,
      batches: [{ label: 'svd', users: 610, rows: 1830, k: 3 }],
    });

    // serve: a child process on a free port, loopback only; SIGTERM stops it cleanly
    const child = spawn(process.execPath, ['bin/reelab.js', 'serve', '--model', out, '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const base = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
        const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${text}`)));
    });
    const health = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', model: 'svd', users: 610 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const unknown = await reelab(['recommend', '--model', out, '--user', '99999', '--json']).catch((e) => e);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain("user 99999 is not in the model's training data");
    writeFileSync(file, '[{"movieId": 1}]');
    const bad = await reelab(['recommend', '--model', out, '--ratings', file]).catch((e) => e);
    expect(bad.stderr).toContain(`${file}: entry 0: expected {"movieId": <number>, "rating": <number>}`);
    const nofolder = await reelab(['recommend', '--model', join(tmp(), 'nope'), '--user', '1']).catch(
      (e) => e,
    );
    expect(nofolder.stderr).toContain('is neither a model folder nor an MLflow run id');
    const notEmpty = await reelab([
      'train',
      '--dataset',
      'ml-latest-small',
      '--data-dir',
      realDataDir(),
      '--model',
      'baseline',
      '--out',
      out,
      '--no-track',
    ]).catch((e) => e);
    expect(notEmpty.stderr).toContain('is not empty');
  });

  it('with tracking: the run holds params, metrics and the model folder; recommend --model <run id> downloads it', async () => {
    const out = join(tmp(), 'tracked');
    const env = { MLFLOW_TRACKING_URI: mlflow().url, REELAB_OUTBOX_DIR: join(tmp(), 'outbox') };
    const r = oneJsonObject(
      (
        await reelab(
          [
            'train',
            '--dataset',
            'ml-latest-small',
            '--data-dir',
            realDataDir(),
            '--split',
            'random:0.2',
            '--model',
            'baseline',
            '--out',
            out,
            '--json',
          ],
          env,
        )
      ).stdout,
    );
    const runId = r.runId as string;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.artifactPath).toBe('model');
    const raw = await rawMlflow(mlflow().url).getRun(runId);
    expect(raw.info.status).toBe('FINISHED');
    expect(tagsOf(raw)['reelab.dataset.sha256']).toBe(r.datasetSha256);
    const client = new MlflowClient({ trackingUri: mlflow().url });
    const listed = await client.listArtifactsAt(`${artifactProxyRoot(raw.info.artifact_uri!)}/model`);
    expect(listed.map((f) => f.path).sort()).toEqual(
      expect.arrayContaining(['model.json', 'movies.json', 'userBias.f32', 'itemBias.f32']),
    );
    const byDir = oneJsonObject(
      (await reelab(['recommend', '--model', out, '--user', '3', '--json'])).stdout,
    );
    const byRun = oneJsonObject(
      (
        await reelab(['recommend', '--model', runId, '--user', '3', '--json'], {
          ...env,
          REELAB_MODEL_CACHE: join(tmp(), 'cache'),
        })
      ).stdout,
    );
    expect(byRun).toEqual(byDir);
  });
});
