/**
 * TensorFlow.js backends on this machine: matMul GFLOP/s (vs the peak estimate and numpy/OpenBLAS in the venv)
 * and one training epoch of the hybrid network on ml-latest-small (random:0.2 split), per backend.
 *   npx tsx bench/tf-backends.ts [--repeats 3] [--out bench/results/tf.md]
 * Backends that cannot run here are reported as such. Run on a quiet machine for numbers to quote.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  loadTensorFlow,
  measureMatMulGflops,
  TENSOR_BACKENDS,
  type TensorBackendName,
} from '../lib/compute/tensor';
import { estimatePeak } from '../lib/compute/tensor-peak';
import { scoreBlockJs, TensorFactorScorer } from '../lib/compute/tensor-scoring';
import { loadCatalogue, loadRatings } from '../lib/data/load';
import { makeSplit } from '../lib/data/split';
import { HybridNnModel } from '../lib/models/hybrid-nn';
import type { FactorScorer } from '../lib/models/recommender';
import { projectRoot, venvBin } from '../lib/util/project';
import { Rng } from '../lib/util/rng';
import { loadNote } from './machine';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const k = args.indexOf(`--${name}`);
  return k >= 0 && args[k + 1] ? args[k + 1]! : fallback;
};
const repeats = Number(arg('repeats', '3'));
const out = arg('out', join(projectRoot(), 'bench', 'results', 'tf.md'));
const dataDir = process.env.REELAB_DATA_DIR ?? join(projectRoot(), '..', 'shared', 'datasets');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// A factor model of ml-25m's size class for the dense scoring comparison: 256 users × 20000 items × 128 factors.
const SCORE_USERS = 256;
const SCORE_ITEMS = 20000;
const SCORE_K = 128;
function factorModel(): FactorScorer {
  const rng = new Rng(5);
  const userFactors = new Float32Array(SCORE_USERS * SCORE_K);
  const itemFactors = new Float32Array(SCORE_ITEMS * SCORE_K);
  rng.fillNormal(userFactors, 0, 0.1);
  rng.fillNormal(itemFactors, 0, 0.1);
  const userBias = new Float32Array(SCORE_USERS);
  const itemBias = new Float32Array(SCORE_ITEMS);
  rng.fillNormal(itemBias, 0, 0.3);
  return { kind: 'factors', factors: SCORE_K, userFactors, itemFactors, userBias, itemBias, globalBias: 3.5 };
}
const scoreUsers = Int32Array.from({ length: SCORE_USERS }, (_, u) => u);
const blockFlops = 2 * SCORE_USERS * SCORE_ITEMS * SCORE_K;

function timeMs(fn: () => void, runs: number): number {
  fn();
  const t: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    fn();
    t.push(performance.now() - started);
  }
  return median(t);
}

interface Row {
  backend: TensorBackendName;
  status: string;
  gflops: Record<number, number>;
  /** Dense block scoring of a factor model (users × all items), ms per block. */
  scoringMs: number | null;
  epochSeconds: number[];
  epochRmse: number | null;
}

function numpyGflops(n: number): number | null {
  const code = `
import numpy as np, time
n=${n}; a=np.random.rand(n,n).astype(np.float32); b=np.random.rand(n,n).astype(np.float32)
for _ in range(2): a@b
t=[]
for _ in range(7):
    s=time.perf_counter(); a@b; t.append(time.perf_counter()-s)
t.sort(); print(2*n**3/t[3]/1e9)`;
  try {
    return Number(execFileSync(venvBin('python'), ['-c', code], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const peak = estimatePeak();
  const all = loadRatings('ml-latest-small', { dataDir });
  const split = makeSplit(all, 'random:0.2', 'ml-latest-small', { seed: 42 });
  // Genres, titles and years only (no tags), the content this benchmark has always trained with.
  const catalogue = loadCatalogue('ml-latest-small', all.itemIds, { dataDir, parts: [] });
  const rows: Row[] = [];
  for (const backend of TENSOR_BACKENDS) {
    const row: Row = {
      backend,
      status: 'ok',
      gflops: {},
      scoringMs: null,
      epochSeconds: [],
      epochRmse: null,
    };
    rows.push(row);
    let tf: Awaited<ReturnType<typeof loadTensorFlow>>['tf'];
    try {
      tf = (await loadTensorFlow({ backend })).tf;
    } catch (err) {
      row.status = `unavailable: ${(err as Error).message}`;
      process.stderr.write(`${backend}: ${row.status}\n`);
      continue;
    }
    // The plain JS backend needs ~5 s per 1024² product; 512² keeps the run short.
    for (const n of backend === 'cpu' ? [512] : [512, 1024]) {
      row.gflops[n] = measureMatMulGflops(tf, n, 5).gflops;
      process.stderr.write(`${backend} matMul ${n}: ${row.gflops[n]!.toFixed(1)} GFLOP/s\n`);
    }
    if (backend !== 'cpu') {
      const scorer = new TensorFactorScorer(tf, factorModel());
      row.scoringMs = timeMs(() => scorer.scoreBlock(scoreUsers), 5);
      scorer.dispose();
      process.stderr.write(`${backend} scoring block: ${row.scoringMs.toFixed(1)} ms\n`);
    }
    const model = new HybridNnModel({
      epochs: backend === 'cpu' ? 1 : repeats,
      holdout: 0,
      backend,
      seed: 42,
    });
    await model.fit(split.train, {
      catalogue,
      validation: split.test,
      onEpoch: (e) => {
        row.epochSeconds.push(e.seconds);
        row.epochRmse = e.validationRmse ?? null;
        process.stderr.write(
          `${backend} epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, test RMSE ${e.validationRmse?.toFixed(4)}\n`,
        );
      },
    });
  }
  const jsOut = new Float32Array(SCORE_USERS * SCORE_ITEMS);
  const jsModel = factorModel();
  const jsScoringMs = timeMs(() => scoreBlockJs(jsModel, scoreUsers, jsOut), 3);
  process.stderr.write(`typed-array scoring block: ${jsScoringMs.toFixed(1)} ms\n`);
  const np512 = numpyGflops(512);
  const np1024 = numpyGflops(1024);
  const load1 = loadavg();

  const native = rows.find((r) => r.backend === 'tensorflow' && r.epochSeconds.length > 0);
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? '–' : x.toFixed(d));
  const lines = [
    '# TensorFlow.js backends',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${peak.model}, ${peak.cores} cores, Node ${process.version}`,
    `- Peak estimate: ${peak.gflops.toFixed(0)} GFLOP/s float32 = ${peak.method}`,
    `- Load average (1/5/15 min) before: ${load0.map((x) => x.toFixed(2)).join(' / ')}, after: ${load1.map((x) => x.toFixed(2)).join(' / ')} (${loadNote(load1[0]!)})`,
    `- Command: \`npx tsx bench/tf-backends.ts --repeats ${repeats}\``,
    '- matMul: median of 5 products of random n×n float32 matrices after 2 warm-ups, including the read-back of the',
    '  result; GFLOP/s = 2n³ / time.',
    `- Epoch: one training epoch of \`hybrid-nn\` (defaults: 32-dim embeddings, 64-bucket text + genres + year/popularity,`,
    `  MLP 64,32, batch 512, Adam) on ml-latest-small random:0.2 (${split.train.size} training ratings); median of`,
    `  ${repeats} epochs (1 on cpu), evaluation time excluded.`,
    `- Scoring: a factor model's dense scores for a block of ${SCORE_USERS} users × ${SCORE_ITEMS} items × ${SCORE_K} factors`,
    '  (one matMul + biases + read-back, `TensorFactorScorer`) vs the plain typed-array loop (`scoreBlockJs`); median ms.',
    '',
    '| backend | matMul 512² GFLOP/s | matMul 1024² GFLOP/s | % of peak (1024²) | scoring block ms (GFLOP/s) | epoch s | epoch vs native | status |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const best = r.gflops[1024] ?? r.gflops[512];
    const ep = r.epochSeconds.length > 0 ? median(r.epochSeconds) : undefined;
    const ratio = native && ep !== undefined ? `${(ep / median(native.epochSeconds)).toFixed(2)}×` : '–';
    const scoring =
      r.scoringMs === null
        ? '–'
        : `${r.scoringMs.toFixed(0)} (${(blockFlops / r.scoringMs / 1e6).toFixed(1)})`;
    lines.push(
      `| ${r.backend} | ${fmt(r.gflops[512])} | ${fmt(r.gflops[1024])} | ${best !== undefined ? ((100 * best) / peak.gflops).toFixed(0) : '–'}% | ${scoring} | ${fmt(ep, 2)} | ${ratio} | ${r.status} |`,
    );
  }
  lines.push(
    `| typed-array loop | – | – | – | ${jsScoringMs.toFixed(0)} (${(blockFlops / jsScoringMs / 1e6).toFixed(1)}) | – | – | reference |`,
    `| numpy (OpenBLAS, venv) | ${fmt(np512 ?? undefined)} | ${fmt(np1024 ?? undefined)} | ${np1024 ? ((100 * np1024) / peak.gflops).toFixed(0) : '–'}% | – | – | – | reference |`,
    '',
  );
  // Hand-written notes below the marker survive a re-run.
  const marker = '<!-- notes: kept when the benchmark rewrites this file -->';
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const notes = previous.includes(marker) ? previous.slice(previous.indexOf(marker)) : `${marker}\n`;
  writeFileSync(out, `${lines.join('\n')}\n${notes}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
