/**
 * Fit speed of reelab's SVD, SVD++ and KNNBaseline against Surprise's, side by side on the same train/test split
 * and hyperparameters: ml-100k u1.base/u1.test and ml-latest-small random 80/20 (seed 42; the split is written to a
 * temporary folder for Surprise). Median of N fits; reelab with 1 and 2 threads (SVD++ is single-threaded).
 *
 *   npx tsx bench/rating-speed.ts [--data-dir ../shared/datasets] [--datasets ml-100k,ml-latest-small]
 *                                 [--models svd,svdpp,knn-baseline] [--repeats 3] [--skip-surprise]
 *
 * Prints a Markdown table (wall and process-CPU times, ratios reelab / Surprise, RMSE of both) and a JSON line. On a
 * shared machine the wall clock mostly measures the other jobs; 1-thread CPU time is the steadier comparison.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Interactions } from '../lib/data/interactions';
import { loadRatings } from '../lib/data/load';
import { makeSplit } from '../lib/data/split';
import { evaluateRatings } from '../lib/eval/rating';
import type { Recommender } from '../lib/models/recommender';
import { createModel } from '../lib/models/registry';
import { projectRoot, venvBin } from '../lib/util/project';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const MODELS: Record<string, { label: string; threads: number[]; make: () => Recommender }> = {
  svd: { label: 'SVD 100 f × 20 ep', threads: [1, 2], make: () => createModel('svd') },
  svdpp: { label: 'SVD++ 20 f × 20 ep', threads: [1], make: () => createModel('svdpp') },
  'knn-baseline': {
    label: 'KNNBaseline item pearson_baseline',
    threads: [1, 2],
    make: () => createModel('knn-item', { variant: 'baseline', similarity: 'pearson-baseline' }),
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function writeTsv(data: Interactions, file: string): void {
  const lines: string[] = [];
  for (let n = 0; n < data.size; n++)
    lines.push(
      `${data.userIds.ids[data.users[n]!]}\t${data.itemIds.ids[data.items[n]!]}\t${data.ratings[n]}`,
    );
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const dataDir = resolve(arg('data-dir', join(projectRoot(), '..', 'shared', 'datasets')));
  const datasets = arg('datasets', 'ml-100k,ml-latest-small').split(',');
  const names = arg('models', 'svd,svdpp,knn-baseline').split(',');
  const repeats = Number(arg('repeats', '3'));
  const rows: string[] = [
    '| dataset | model | reelab 1 thread wall (CPU) s | reelab 2 threads wall (CPU) s | Surprise wall (CPU) s | ratio best wall | ratio 1-thread CPU | RMSE reelab | RMSE Surprise |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const json: unknown[] = [];
  const load0 = loadavg()[0]!;
  for (const dataset of datasets) {
    const all = loadRatings(dataset, { dataDir });
    const split = makeSplit(all, dataset === 'ml-100k' ? 'u1' : 'random:0.2', dataset, { dataDir, seed: 42 });
    const ours: Record<string, { times: Record<number, number>; cpu: Record<number, number>; rmse: number }> =
      {};
    for (const name of names) {
      const spec = MODELS[name]!;
      ours[name] = { times: {}, cpu: {}, rmse: 0 };
      for (const threads of spec.threads) {
        // one warm-up fit (JIT, worker start-up), then the timed repeats
        await spec.make().fit(split.train, { threads });
        const secs: number[] = [];
        const cpu: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const model = spec.make();
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          await model.fit(split.train, { threads });
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1e6);
          secs.push((performance.now() - t0) / 1000);
          ours[name]!.rmse = evaluateRatings(model, split.test).rmse;
        }
        ours[name]!.times[threads] = median(secs);
        ours[name]!.cpu[threads] = median(cpu);
        const list = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(' ');
        process.stderr.write(`reelab ${dataset} ${name} ${threads}t: wall ${list(secs)} cpu ${list(cpu)}\n`);
      }
    }
    let theirs: Record<string, { median: number; cpuMedian: number; rmse: number }> = {};
    if (!process.argv.includes('--skip-surprise')) {
      const dir = mkdtempSync(join(tmpdir(), 'reelab-rating-speed-'));
      writeTsv(split.train, join(dir, 'train.tsv'));
      writeTsv(split.test, join(dir, 'test.tsv'));
      const scale = dataset === 'ml-100k' ? '1,5' : '0.5,5';
      const out = execFileSync(
        venvBin('python'),
        [
          join(__dirname, 'py', 'surprise_speed.py'),
          ...['--train', join(dir, 'train.tsv'), '--test', join(dir, 'test.tsv'), '--scale', scale],
          ...['--algos', names.join(','), '--repeats', String(repeats)],
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
      );
      theirs = JSON.parse(out.trim().split('\n').at(-1)!) as typeof theirs;
    }
    for (const name of names) {
      const o = ours[name]!;
      const t = theirs[name];
      const best = Math.min(...Object.values(o.times));
      const fmt = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(3));
      const both = (w: number | undefined, c: number | undefined) =>
        w === undefined ? '–' : `${fmt(w)} (${fmt(c)})`;
      rows.push(
        `| ${dataset} | ${MODELS[name]!.label} | ${both(o.times[1], o.cpu[1])} | ${both(o.times[2], o.cpu[2])} | ${both(
          t?.median,
          t?.cpuMedian,
        )} | ${t ? (best / t.median).toFixed(3) : '–'} | ${t ? (o.cpu[1]! / t.cpuMedian).toFixed(3) : '–'} | ${o.rmse.toFixed(
          4,
        )} | ${t ? t.rmse.toFixed(4) : '–'} |`,
      );
      json.push({ dataset, model: name, reelab: o, surprise: t ?? null });
    }
  }
  console.log(rows.join('\n'));
  console.log(`load average at start: ${load0.toFixed(2)}, at end: ${loadavg()[0]!.toFixed(2)} (2 cores)`);
  console.log(JSON.stringify(json));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
