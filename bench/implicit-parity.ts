/**
 * Ranking parity of reelab's iALS and BPR with implicit 0.7.3 (the venv), on the same per-user temporal split,
 * the same hyperparameters and iterations, 2 threads each. Both sides score with the same metric code
 * definitions (bench/implicit-common.ts and bench/py/implicit_parity.py).
 *   npx tsx bench/implicit-parity.ts [--datasets ml-latest-small,ml-100k] [--seeds 3] [--out bench/out/parity]
 * iALS: implicit is given reelab's confidence matrix (alpha = 1 on its side, so it does not rescale) and
 * reelab's initial factors, so the two runs solve the same problem from the same start.
 * BPR: both sides are stochastic (implicit Hogwild, reelab DSGD strata); metrics are averaged over seeds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromCompressed, mapValues } from '../lib/compute/sparse';
import { BprModel } from '../lib/models/bpr';
import { IalsModel, userItemConfidence } from '../lib/models/ials';
import {
  csrArrays,
  fmt,
  loadSplit,
  machineLoad,
  type RankingMetrics,
  rankingMetrics,
  runPython,
  writeExchange,
} from './implicit-common';

const METRICS = ['precision@10', 'recall@10', 'ndcg@10', 'map@10'] as const;

const ALS = { factors: 64, regularization: 0.05, iterations: 15, alpha: 10, cgSteps: 3 };
const BPR = { factors: 64, learningRate: 0.01, regularization: 0.01, iterations: 100 };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

type Row = { dataset: string; model: string; side: string } & Omit<RankingMetrics, 'users'>;

function mean(ms: RankingMetrics[]): Omit<RankingMetrics, 'users'> {
  const out = { 'precision@10': 0, 'recall@10': 0, 'ndcg@10': 0, 'map@10': 0 };
  for (const m of ms) for (const key of METRICS) out[key] += m[key] / ms.length;
  return out;
}

async function main(): Promise<void> {
  const datasets = arg('datasets', 'ml-latest-small,ml-100k').split(',');
  const seeds = Number(arg('seeds', '3'));
  const threads = Number(arg('threads', '2'));
  const outDir = resolve(arg('out', join(__dirname, 'out', 'implicit-parity')));
  const rows: Row[] = [];
  const load = machineLoad();
  for (const dataset of datasets) {
    const { train, test } = loadSplit(dataset);
    const dir = join(outDir, dataset);
    mkdirSync(dir, { recursive: true });
    const cui = userItemConfidence(train, {
      values: 'binary',
      threshold: 0,
      confidence: 'linear',
      alpha: ALS.alpha,
      eps: 1,
    });
    const binary = mapValues(fromCompressed(train.csr(), train.nUsers, train.nItems), () => 1);
    const testCsr = fromCompressed(test.csr(), test.nUsers, test.nItems);

    // iALS: capture the initial factors so implicit starts from the same point.
    const als = new IalsModel({ ...ALS, seed: 42 });
    let x0 = new Float32Array(0);
    let y0 = new Float32Array(0);
    als.initialise = (x, y) => {
      x0 = x.slice();
      y0 = y.slice();
    };
    let started = performance.now();
    await als.fit(train, { threads });
    const alsSeconds = (performance.now() - started) / 1000;
    const alsMetrics = rankingMetrics(als, test);
    rows.push({ dataset, model: 'ials', side: 'reelab', ...alsMetrics });

    const bprMetrics: RankingMetrics[] = [];
    let bprSeconds = 0;
    for (let s = 0; s < seeds; s++) {
      const bpr = new BprModel({ ...BPR, seed: 42 + s });
      started = performance.now();
      await bpr.fit(train, { threads });
      bprSeconds += (performance.now() - started) / 1000 / seeds;
      bprMetrics.push(rankingMetrics(bpr, test));
    }
    rows.push({ dataset, model: 'bpr', side: 'reelab', ...mean(bprMetrics) });

    writeExchange(
      dir,
      {
        ...csrArrays('cui', cui),
        ...csrArrays('train', binary),
        ...csrArrays('test', testCsr),
        x0,
        y0,
      },
      { users: train.nUsers, items: train.nItems, als: ALS, bpr: BPR, seeds, threads },
    );
    const py = runPython('implicit_parity.py', [dir], { OPENBLAS_NUM_THREADS: '1' }) as {
      ials: RankingMetrics;
      bpr: RankingMetrics;
      seconds: { ials: number; bpr: number };
      implicitOwn: Record<string, unknown>;
    };
    rows.push({ dataset, model: 'ials', side: 'implicit', ...py.ials });
    rows.push({ dataset, model: 'bpr', side: 'implicit', ...py.bpr });
    console.error(
      `${dataset}: fit seconds reelab ials ${fmt(alsSeconds, 2)} bpr ${fmt(bprSeconds, 2)}; implicit ials ${fmt(py.seconds.ials, 2)} bpr ${fmt(py.seconds.bpr, 2)}`,
    );
    console.error(`${dataset}: implicit's own ranking_metrics_at_k: ${JSON.stringify(py.implicitOwn)}`);
  }

  const lines = [
    `| dataset | model | side | P@10 | R@10 | NDCG@10 | MAP@10 | NDCG Δ vs implicit |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const peer = rows.find((o) => o.dataset === r.dataset && o.model === r.model && o.side === 'implicit')!;
    const delta =
      r.side === 'reelab' ? `${fmt((100 * (r['ndcg@10'] - peer['ndcg@10'])) / peer['ndcg@10'], 2)} %` : '';
    lines.push(
      `| ${r.dataset} | ${r.model} | ${r.side} | ${METRICS.map((m) => fmt(r[m])).join(' | ')} | ${delta} |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  console.log(
    `\n${load}; iALS ${JSON.stringify(ALS)}; BPR ${JSON.stringify(BPR)}, ${seeds} seeds; ${threads} threads`,
  );
  writeFileSync(join(outDir, 'parity.md'), `${table}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
