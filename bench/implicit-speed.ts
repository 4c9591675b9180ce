/**
 * Per-epoch time of reelab's iALS and BPR next to implicit 0.7.3 (CPU) on the same data, factors, CG steps
 * and thread count; prints medians and the ratio reelab / implicit (target ≤ 1.0).
 *   npx tsx bench/implicit-speed.ts [--dataset ml-latest-small|synthetic:32000000] [--threads 2]
 *     [--iterations 5] [--bpr-iterations 5] [--factors 64] [--models ials,bpr] [--repeats 3] [--kernel auto|js]
 * iALS: binary interactions, confidence 1 + 10·v, regularization 0.05, 3 CG steps; BPR: lr 0.01, reg 0.01,
 * verify negatives. Per fit the median over epochs, then the median over `--repeats` fits (default 3).
 */
import { join, resolve } from 'node:path';
import { fromCompressed, mapValues } from '../lib/compute/sparse';
import { loadRatings } from '../lib/data/load';
import { BprModel } from '../lib/models/bpr';
import { IalsModel, userItemConfidence } from '../lib/models/ials';
import { csrArrays, DATA_DIR, fmt, machineLoad, median, runPython, writeExchange } from './implicit-common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const dataset = arg('dataset', 'ml-latest-small');
  const threads = Number(arg('threads', '2'));
  const iterations = Number(arg('iterations', '5'));
  const bprIterations = Number(arg('bpr-iterations', '5'));
  const factors = Number(arg('factors', '64'));
  const models = arg('models', 'ials,bpr').split(',');
  const repeats = Number(arg('repeats', '3'));
  const kernel = arg('kernel', 'auto') as 'auto' | 'wasm' | 'js';
  const outDir = resolve(arg('out', join(__dirname, 'out', 'implicit-speed', dataset.replace(':', '-'))));
  const loadBefore = machineLoad();
  const data = loadRatings(dataset, { dataDir: DATA_DIR });
  const alsParams = { factors, regularization: 0.05, alpha: 10, cgSteps: 3, iterations };
  const bprParams = { factors, learningRate: 0.01, regularization: 0.01, iterations: bprIterations };
  const result: Record<string, number> = {};
  // Median over epochs of each fit, then the median over repeated fits.
  const runs: Record<string, number[]> = { ials: [], bpr: [] };
  for (let r = 0; r < repeats; r++) {
    if (models.includes('ials')) {
      const m = new IalsModel({ ...alsParams, kernel });
      const epochs: number[] = [];
      await m.fit(data, { threads, onEpoch: (e) => epochs.push(e.seconds) });
      runs.ials!.push(median(epochs));
    }
    if (models.includes('bpr')) {
      const m = new BprModel({ ...bprParams, kernel });
      const epochs: number[] = [];
      await m.fit(data, { threads, onEpoch: (e) => epochs.push(e.seconds) });
      runs.bpr!.push(median(epochs));
    }
  }
  for (const m of models) result[m] = median(runs[m]!);
  const cui = userItemConfidence(data, {
    values: 'binary',
    threshold: 0,
    confidence: 'linear',
    alpha: 10,
    eps: 1,
  });
  const binary = mapValues(fromCompressed(data.csr(), data.nUsers, data.nItems), () => 1);
  writeExchange(
    outDir,
    { ...csrArrays('cui', cui), ...csrArrays('train', binary) },
    {
      users: data.nUsers,
      items: data.nItems,
      als: alsParams,
      bpr: bprParams,
      threads,
      models,
    },
  );
  const py = runPython('implicit_speed.py', [outDir], { OPENBLAS_NUM_THREADS: '1' }) as Record<
    string,
    number
  >;
  const lines = [
    `${dataset}: ${data.size} ratings, ${data.nUsers} users × ${data.nItems} items; ${factors} factors, ${threads} threads`,
    '| model | reelab s/epoch | implicit s/epoch | ratio |',
    '| --- | --- | --- | --- |',
  ];
  for (const m of models) {
    lines.push(`| ${m} | ${fmt(result[m]!, 3)} | ${fmt(py[m]!, 3)} | ${fmt(result[m]! / py[m]!, 2)} |`);
  }
  lines.push(`before: ${loadBefore}; after: ${machineLoad()}`);
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
