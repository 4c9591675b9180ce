import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRatings } from '../../lib/data/load';
import { makeSplit, type Split } from '../../lib/data/split';
import { evaluateModel, type ProtocolResult } from '../../lib/eval/protocols';
import { compareModels } from '../../lib/eval/significance';
import { createModel } from '../../lib/models/registry';
import { HAS_ML100K, realDataDir } from '../helpers/data';

const run = promisify(execFile);
const reelab = (args: string[]) =>
  run('node', ['bin/reelab.js', ...args], {
    env: { ...process.env, MLFLOW_TRACKING_URI: '' },
    maxBuffer: 1 << 24,
  });

describe.runIf(HAS_ML100K)('evaluation on ml-100k u1 (real data)', () => {
  let split: Split;
  const results: Record<string, ProtocolResult[]> = {};

  beforeAll(async () => {
    const dataDir = realDataDir();
    split = makeSplit(loadRatings('ml-100k', { dataDir }), 'u1', 'ml-100k', { dataDir });
    for (const name of ['popularity', 'random']) {
      const model = createModel(name);
      await model.fit(split.train);
      results[name] = await evaluateModel(model, split.train, split.test, {
        metrics: [
          'ndcg@10',
          'precision@10',
          'recall@10',
          'map@10',
          'mrr',
          'hr@10',
          'auc',
          'coverage',
          'novelty',
        ],
        protocols: ['full', 'sampled:100'],
        relevance: 4,
      });
    }
  });

  it('full protocol: popularity gives plausible accuracy, random gives chance level', () => {
    const pop = results.popularity![0]!;
    const rnd = results.random![0]!;
    expect(pop.protocol).toBe('full');
    // u1.test: 459 users, of whom a few have no rating ≥ 4
    expect(pop.users).toBe(459);
    expect(pop.usersWithoutRelevant).toBeGreaterThan(0);
    expect(pop.usersWithoutRelevant).toBeLessThan(20);
    expect(pop.metrics['precision@10']).toBeGreaterThan(0.15);
    expect(pop.metrics['precision@10']).toBeLessThan(0.3);
    expect(pop.metrics['ndcg@10']).toBeGreaterThan(0.15);
    expect(pop.metrics.auc).toBeGreaterThan(0.8);
    expect(pop.metrics.coverage).toBeLessThan(0.1); // the same few items for everybody
    expect(rnd.metrics['precision@10']).toBeLessThan(0.05);
    expect(Math.abs(rnd.metrics.auc! - 0.5)).toBeLessThan(0.03);
    expect(rnd.metrics.coverage).toBeGreaterThan(0.8);
    expect(rnd.metrics.novelty).toBeGreaterThan(pop.metrics.novelty!);
  });

  it('sampled protocol: random ranks the positive uniformly among 101 candidates', () => {
    const rnd = results.random![1]!;
    expect(rnd.protocol).toBe('sampled:100');
    expect(Math.abs(rnd.metrics['hr@10']! - 10 / 101)).toBeLessThan(0.03);
    expect(results.popularity![1]!.metrics['hr@10']).toBeGreaterThan(0.4);
  });

  it('significance: popularity beats random on per-user NDCG@10 by a wide margin', () => {
    const c = compareModels(
      results.popularity![0]!.perUser['ndcg@10']!,
      results.random![0]!.perUser['ndcg@10']!,
    );
    expect(c.users).toBeGreaterThan(400);
    expect(c.tTest.pValue).toBeLessThan(1e-20);
    expect(c.tTest.cohensD).toBeGreaterThan(0.5);
    expect(c.wilcoxon.method).toBe('asymptotic');
    expect(c.wilcoxon.pValue).toBeLessThan(1e-20);
    expect(c.wilcoxon.r).toBeGreaterThan(0.3);
  });

  it('a factor model (ials) ranks identically with 1 and 2 threads and other block sizes', async () => {
    const model = createModel('ials', { factors: 16, iterations: 3 });
    await model.fit(split.train);
    expect(model.batchScorer?.()).toBeTruthy();
    const opts = { metrics: ['ndcg@10', 'mrr', 'auc', 'coverage'], relevance: 4 };
    const [one] = await evaluateModel(model, split.train, split.test, { ...opts, threads: 1 });
    const [two] = await evaluateModel(model, split.train, split.test, {
      ...opts,
      threads: 2,
      blockUsers: 5,
      blockItems: 48,
      parallelMinFlops: 0,
    });
    expect(one!.scoring).toBe('factors');
    for (const m of ['ndcg@10', 'mrr', 'auc'])
      expect(Array.from(two!.perUser[m]!.values)).toEqual(Array.from(one!.perUser[m]!.values));
    expect(two!.metrics).toEqual(one!.metrics);
    expect(one!.metrics['ndcg@10']).toBeGreaterThan(results.random![0]!.metrics['ndcg@10']!);
  });

  it('reelab evaluate --metrics … --json prints every metric under "metrics" with protocol and threshold', async () => {
    const metrics = 'rmse,ndcg@10,precision@10,recall@10,map@10,mrr,hr@10,auc,coverage,novelty';
    const { stdout } = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--split',
      'u1',
      '--model',
      'baseline',
      '--metrics',
      metrics,
      '--relevance',
      '4',
      '--no-track',
      '--json',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!);
    expect(Object.keys(r.metrics)).toEqual(metrics.split(','));
    expect(r).toMatchObject({ model: 'baseline', split: 'u1', protocol: 'rating,full', relevance: 4 });
    expect(r.metrics.rmse).toBeGreaterThan(0.94);
    expect(r.metrics.rmse).toBeLessThan(0.97);
    for (const v of Object.values(r.metrics)) expect(Number.isFinite(v)).toBe(true);
    expect(r.evaluation.map((e: { protocol: string }) => e.protocol)).toEqual(['rating', 'full']);
    expect(r.evaluation[1]).toMatchObject({ relevance: 4, users: 459 });
    expect(typeof r.fitSeconds).toBe('number');
  });

  it('reelab evaluate labels metric keys when several ranking protocols run, and refuses rmse on ranking models', async () => {
    const { stdout } = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--split',
      'u1',
      '--model',
      'popularity',
      '--metrics',
      'hr@10,ndcg@10',
      '--protocol',
      'full,sampled:100',
      '--no-track',
      '--json',
    ]);
    const r = JSON.parse(stdout);
    expect(Object.keys(r.metrics)).toEqual([
      'full/hr@10',
      'full/ndcg@10',
      'sampled:100/hr@10',
      'sampled:100/ndcg@10',
    ]);
    expect(r.protocol).toBe('full,sampled:100');
    const err = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--split',
      'u1',
      '--model',
      'popularity',
      '--metrics',
      'rmse,ndcg@10',
      '--json',
    ]).catch((e) => e);
    expect(err.code).not.toBe(0);
    expect(err.stdout).toBe('');
    expect(err.stderr).toContain('rating metrics (rmse) need predicted ratings');
    const bad = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--split',
      'u1',
      '--model',
      'popularity',
      '--metrics',
      'ndgc@10',
      '--json',
    ]).catch((e) => e);
    expect(bad.stderr).toContain('unknown metric "ndgc@10"; valid metrics:');
  });
});
