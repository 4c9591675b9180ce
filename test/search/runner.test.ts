import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../lib/config/load';
import { runSearch, type SearchResult } from '../../lib/search/runner';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { projectRoot } from '../../lib/util/project';
import { rebuildReport, runExperiment } from '../../lib/workflows/experiment';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';
import { type RawRun, rawMlflow, tagsOf, useMlflowServer, useTempDir } from '../helpers/mlflow';

const server = useMlflowServer();
const tmp = useTempDir('reelab-search-');
const exec = promisify(execFile);

const RATING_YAML = `
name: runner-rating
dataset: ml-100k
split: [u1, u2]
seed: 11
validation: { split: random:0.1 }
metrics: [rmse, mae]
earlyStopping: { metric: validation_rmse, patience: 2, minDelta: 0.0001 }
search: { parallel: 2 }
models:
  - model: baseline
  - model: svd
    params: { epochs: 12 }
    space:
      factors: [8, 16]
      learningRate: [0.005, 0.01]
mlflow: { experiment: test-runner-rating }
`;

const RANKING_YAML = `
name: runner-ranking
dataset: ml-latest-small
split: temporal-user:0.2
seed: 3
metrics: [ndcg@10, recall@10, coverage]
select: ndcg@10
report: { bootstrap: 200 }
models:
  - model: ials
    params: { iterations: 4 }
    space: { factors: [8, 16] }
  - model: popularity
mlflow: { experiment: test-runner-ranking }
`;

function client(): MlflowClient {
  return new MlflowClient({ trackingUri: server().url, outboxDir: false });
}

async function trialRuns(experiment: string): Promise<RawRun[]> {
  const raw = rawMlflow(server().url);
  const id = await raw.experimentId(experiment);
  if (!id) return [];
  return (await raw.searchRuns(id)).filter((r) => tagsOf(r)['reelab.kind'] === 'trial');
}

function metricsByIndex(r: SearchResult): Array<Record<string, number>> {
  return r.trials.map((t) => t.metrics);
}

/** Quality metrics only (timings differ run to run). */
function quality(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => !/seconds$/.test(k)));
}

describe.runIf(HAS_ML100K)('search runner against a real MLflow server (ml-100k)', () => {
  it('the same config twice: bit-identical metrics, the second run reuses every trial and creates none', async () => {
    const file = join(tmp(), 'runner-rating.yaml');
    writeFileSync(file, RATING_YAML);
    const reports = join(tmp(), 'reports');
    const opts = {
      tracking: client(),
      dataDir: realDataDir(),
      progress: 'none' as const,
      log: () => {},
      reportDir: reports,
    };

    const first = await runExperiment(file, opts);
    const r1 = first.search;
    // (baseline + 4 svd configurations) × 2 folds, then the best of each entry on both folds
    expect(r1.counts).toEqual({ total: 14, ran: 14, reused: 0, failed: 0, superseded: 0 });
    expect(r1.trials.filter((t) => t.role === 'final')).toHaveLength(4);
    for (const t of r1.trials) {
      expect(t.metrics.rmse).toBeGreaterThan(0.85);
      expect(t.metrics.rmse).toBeLessThan(1.05);
    }
    const finalSvd = r1.trials.filter((t) => t.role === 'final' && t.model === 'svd');
    // early stopping chose the epoch count the final fits trained for
    for (const f of finalSvd) expect(f.params.epochs).toBeLessThanOrEqual(12);
    const runsAfterFirst = await trialRuns('test-runner-rating');
    expect(runsAfterFirst).toHaveLength(14);
    expect(runsAfterFirst.every((r) => r.info.status === 'FINISHED')).toBe(true);
    expect(new Set(runsAfterFirst.map((r) => tagsOf(r)['reelab.trial.hash'])).size).toBe(14);
    // every trial run is nested under the parent and carries per-epoch curves
    const raw = rawMlflow(server().url);
    expect(runsAfterFirst.every((r) => tagsOf(r)['mlflow.parentRunId'] === r1.parentRunId)).toBe(true);
    // per-epoch curves are named by what they were measured on: the validation part in search trials, the test
    // part in final trials — a test-fold number never carries a validation_* name
    const svdRuns = runsAfterFirst.filter((r) => tagsOf(r)['reelab.model'] === 'svd');
    const searchSvd = svdRuns.find((r) => tagsOf(r)['reelab.trial.role'] === 'search')!;
    const finalSvd0 = svdRuns.find((r) => tagsOf(r)['reelab.trial.role'] === 'final')!;
    expect((await raw.history(searchSvd.info.run_id, 'validation_rmse')).length).toBeGreaterThan(1);
    expect(await raw.history(searchSvd.info.run_id, 'test_rmse')).toHaveLength(0);
    expect((await raw.history(finalSvd0.info.run_id, 'test_rmse')).length).toBeGreaterThan(1);
    expect(await raw.history(finalSvd0.info.run_id, 'validation_rmse')).toHaveLength(0);
    // every trial run carries its learning curves as figures (small pages: plotly.js from the CDN)
    expect(await raw.artifacts(searchSvd.info.run_id, 'figures')).toEqual([
      'figures/learning-curve-loss.html',
      'figures/learning-curve-rmse.html',
    ]);
    const parent = await raw.getRun(r1.parentRunId!);
    expect(tagsOf(parent)['reelab.config.sha256']).toBe(loadExperimentConfig(file).sha256);
    expect(
      Object.fromEntries((parent.data.params ?? []).map((p) => [p.key, p.value]))['best.svd.factors'],
    ).toMatch(/^(8|16)$/);

    const second = await runExperiment(file, opts);
    const r2 = second.search;
    expect(r2.counts).toEqual({ total: 14, ran: 0, reused: 14, failed: 0, superseded: 0 });
    expect(r2.parentRunId).not.toBe(r1.parentRunId);
    // bit-identical: every metric, compared with Object.is
    const m1 = metricsByIndex(r1).map(quality);
    const m2 = metricsByIndex(r2).map(quality);
    for (let i = 0; i < m1.length; i++)
      for (const [k, v] of Object.entries(m1[i]!))
        expect(Object.is(m2[i]![k], v), `trial ${i} ${k}`).toBe(true);
    expect(r2.best).toEqual(r1.best);
    expect(await trialRuns('test-runner-rating')).toHaveLength(14);
    // the two reports show the same leaderboard
    const board = (md: string) => md.slice(md.indexOf('## Leaderboard'), md.indexOf('## Search'));
    expect(board(second.report.markdown)).toBe(board(first.report.markdown));

    // `reelab report --run` rebuilds the same files from MLflow alone
    const rebuilt = await rebuildReport(client(), r1.parentRunId!, join(tmp(), 'rebuilt'));
    expect(rebuilt.report.markdown).toBe(first.report.markdown);
    expect(rebuilt.report.html).toBe(first.report.html);
    const cliOut = join(tmp(), 'cli');
    const { stdout } = await exec(
      process.execPath,
      [
        join(projectRoot(), 'bin', 'reelab.js'),
        'report',
        '--run',
        r1.parentRunId!,
        '--out',
        cliOut,
        '--json',
      ],
      {
        env: { ...process.env, MLFLOW_TRACKING_URI: server().url },
      },
    );
    expect(JSON.parse(stdout).name).toBe('runner-rating');
    expect(readFileSync(join(cliOut, 'runner-rating.md'), 'utf8')).toBe(first.report.markdown);
    expect(readFileSync(first.files.markdown, 'utf8')).toBe(second.report.markdown);

    // what the report says
    const md = first.report.markdown;
    expect(md).toContain('Student-t confidence intervals over the 2 test folds');
    expect(md).toContain(`parent run \`${r1.parentRunId}\``);
    for (const r of runsAfterFirst) expect(md).toContain(r.info.run_id);
    // self-contained: plotly.js embedded, nothing loaded from the network
    expect(first.report.html.includes('Plotly.newPlot')).toBe(true);
    expect(/<script[^>]+src=|<link[^>]+href=/.test(first.report.html)).toBe(false);
    expect(first.report.figures.map((f) => f.id)).toEqual(
      expect.arrayContaining([
        'leaderboard-rmse',
        'curves-test-rmse',
        'search-curves-svd',
        'param-svd-factors',
        'parallel-svd',
      ]),
    );

    // untracked, one trial at a time on this thread: the same numbers (nothing depends on scheduling)
    const inline = await runSearch(loadExperimentConfig(file).config, {
      dataDir: realDataDir(),
      inline: true,
      parallel: 1,
      progress: 'none',
      log: () => {},
    });
    const m3 = metricsByIndex(inline).map(quality);
    for (let i = 0; i < m1.length; i++)
      for (const [k, v] of Object.entries(m1[i]!))
        expect(Object.is(m3[i]![k], v), `inline trial ${i} ${k}`).toBe(true);
  });
});

describe('a bad config fails before any work', () => {
  it('reelab search / experiment exit non-zero listing every problem; MLflow never hears of it', async () => {
    const file = join(tmp(), 'bad.yaml');
    writeFileSync(
      file,
      [
        'name: bad',
        'dataset: ml-100k',
        'split: u1',
        'metrics: [rmse, ndcg]',
        'models:',
        '  - model: svdd',
        '  - model: svd',
        '    space: { factors: [], learningRate: 0.01 }',
        'mlflow: { experiment: test-bad-config }',
      ].join('\n'),
    );
    const cli = join(projectRoot(), 'bin', 'reelab.js');
    for (const command of ['search', 'experiment']) {
      const err = await exec(process.execPath, [cli, command, file], {
        env: { ...process.env, MLFLOW_TRACKING_URI: server().url },
      }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err).not.toBeNull();
      expect(err!.code).toBe(1);
      expect(err!.stderr).toContain('invalid experiment config (4 problems)');
      expect(err!.stderr).toContain('line 4, metrics[1]: "ndcg" needs a list length');
      expect(err!.stderr).toContain('line 6, models[0].model: unknown model "svdd"; allowed: baseline');
      expect(err!.stderr).toContain('line 8, models[1].space.factors: empty list');
      expect(err!.stderr).toContain('line 8, models[1].space.learningRate: expected a list of values');
    }
    expect(await rawMlflow(server().url).experimentId('test-bad-config')).toBeNull();
    const dry = await exec(process.execPath, [
      cli,
      'search',
      '--dry-run',
      '--json',
      join(projectRoot(), 'experiments', 'grid-svd.yaml'),
    ]);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      name: 'grid-svd',
      valid: true,
      searchTrials: 19,
      finalTrials: 2,
    });
  });
});

describe.runIf(HAS_ML_LATEST_SMALL)(
  'search runner, ranking models (ml-latest-small, one temporal split)',
  () => {
    it('leaderboard with bootstrap intervals and per-user significance, rebuilt identically from MLflow', async () => {
      const file = join(tmp(), 'runner-ranking.yaml');
      writeFileSync(file, RANKING_YAML);
      const out = await runExperiment(file, {
        tracking: client(),
        dataDir: realDataDir(),
        progress: 'none',
        log: () => {},
        reportDir: join(tmp(), 'reports'),
      });
      expect(out.search.counts.ran).toBe(3);
      const model = out.report.model;
      expect(model.selectKey).toBe('full/ndcg_at_10');
      const lb = model.leaderboard;
      expect(lb.map((r) => r.label).sort()).toEqual(['ials', 'popularity']);
      const top = lb[0]!;
      const v = top.values['full/ndcg_at_10']!;
      expect(v.method).toBe('bootstrap');
      expect(v.lower!).toBeLessThan(v.value);
      expect(v.upper!).toBeGreaterThan(v.value);
      expect(top.values['full/coverage']!.method).toBe('none');
      const other = lb[1]!;
      const vs = other.versusBest['full/ndcg_at_10']!;
      expect(vs.n).toBeGreaterThan(100);
      expect(vs.tP).toBeGreaterThanOrEqual(0);
      expect(vs.tP).toBeLessThanOrEqual(1);
      expect(out.report.markdown).toContain('percentile bootstrap intervals over test users (200 resamples');
      const rebuilt = await rebuildReport(client(), out.search.parentRunId!, join(tmp(), 'rebuilt-ranking'));
      expect(rebuilt.report.markdown).toBe(out.report.markdown);

      // --fresh recomputes everything and keeps one active run per trial: the earlier ones are superseded
      const fresh = await runSearch(loadExperimentConfig(file).config, {
        tracking: client(),
        dataDir: realDataDir(),
        progress: 'none',
        log: () => {},
        fresh: true,
      });
      expect(fresh.counts).toMatchObject({ total: 3, ran: 3, reused: 0, superseded: 3 });
      const runs = await trialRuns('test-runner-ranking');
      const active = runs.filter((r) => r.info.lifecycle_stage === 'active');
      expect(active.map((r) => r.info.run_id).sort()).toEqual(fresh.trials.map((t) => t.runId).sort());
      expect(runs.filter((r) => tagsOf(r)['reelab.superseded'] === 'true')).toHaveLength(3);
      for (let i = 0; i < 3; i++)
        for (const [k, v] of Object.entries(quality(out.search.trials[i]!.metrics)))
          expect(Object.is(fresh.trials[i]!.metrics[k], v), k).toBe(true);
    });
  },
);
