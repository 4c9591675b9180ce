/**
 * Rating-model parity with Surprise on the GroupLens ml-100k folds u1…u5, Surprise-default hyperparameters on both
 * sides: BaselineOnly, SVD, SVD++, KNNBaseline (item-based, pearson_baseline).
 *
 *   npx tsx bench/rating-parity.ts [--data-dir ../shared/datasets] [--folds u1,u2,u3,u4,u5] [--skip-surprise]
 *                                  [--models baseline,svd,svdpp,knn-baseline] [--threads 1]
 *                                  [--surprise-json <saved surprise_parity.py output>]
 *
 * Prints a Markdown table (per-fold and mean RMSE of both, |Δ mean|, pass = |Δ| ≤ 0.005) and a JSON line.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRatings } from '../lib/data/load';
import { makeSplit } from '../lib/data/split';
import { evaluateRatings } from '../lib/eval/rating';
import type { Recommender } from '../lib/models/recommender';
import { createModel } from '../lib/models/registry';
import { projectRoot, venvBin } from '../lib/util/project';

const MODELS: Record<string, { label: string; make: () => Recommender }> = {
  baseline: { label: 'BaselineOnly (ALS)', make: () => createModel('baseline') },
  svd: { label: 'SVD (100 f, 20 ep)', make: () => createModel('svd') },
  svdpp: { label: 'SVD++ (20 f, 20 ep)', make: () => createModel('svdpp') },
  'knn-baseline': {
    label: 'KNNBaseline item pearson_baseline',
    make: () => createModel('knn-item', { variant: 'baseline', similarity: 'pearson-baseline' }),
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const dataDir = resolve(arg('data-dir', join(projectRoot(), '..', 'shared', 'datasets')));
  const folds = arg('folds', 'u1,u2,u3,u4,u5').split(',');
  const names = arg('models', 'baseline,svd,svdpp,knn-baseline').split(',');
  const threads = Number(arg('threads', '1'));
  const all = loadRatings('ml-100k', { dataDir });
  const ours: Record<string, number[]> = {};
  for (const name of names) {
    ours[name] = [];
    for (const fold of folds) {
      const split = makeSplit(all, fold, 'ml-100k', { dataDir });
      const model = MODELS[name]!.make();
      await model.fit(split.train, { threads });
      ours[name]!.push(evaluateRatings(model, split.test).rmse);
    }
    process.stderr.write(`reelab ${name}: ${ours[name]!.map((r) => r.toFixed(4)).join(' ')}\n`);
  }
  let theirs: Record<string, { rmse: number[] }> = {};
  const cached = arg('surprise-json', '');
  if (cached) {
    // output of an earlier `surprise_parity.py` run on the same folds (Surprise's seeds are fixed)
    theirs = (JSON.parse(readFileSync(cached, 'utf8')) as { algos: typeof theirs }).algos;
  } else if (!process.argv.includes('--skip-surprise')) {
    const out = execFileSync(
      venvBin('python'),
      [
        join(__dirname, 'py', 'surprise_parity.py'),
        '--data-dir',
        dataDir,
        '--algos',
        names.join(','),
        '--folds',
        folds.join(','),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
    );
    theirs = (JSON.parse(out.trim().split('\n').at(-1)!) as { algos: Record<string, { rmse: number[] }> })
      .algos;
  }
  const lines = [
    `| model | ${folds.map((f) => `${f} reelab / Surprise`).join(' | ')} | mean reelab | mean Surprise | Δ | ≤ 0.005 |`,
    `|---|${folds.map(() => '---').join('|')}|---|---|---|---|`,
  ];
  const summary: Record<string, { reelab: number; surprise: number | null }> = {};
  for (const name of names) {
    const o = ours[name]!;
    const t = theirs[name]?.rmse;
    const mo = mean(o);
    const mt = t ? mean(t) : null;
    summary[name] = { reelab: mo, surprise: mt };
    const cells = o.map((r, k) => `${r.toFixed(4)} / ${t ? t[k]!.toFixed(4) : '–'}`);
    const delta = mt === null ? '–' : (mo - mt).toFixed(4);
    const ok = mt === null ? '–' : Math.abs(mo - mt) <= 0.005 ? 'yes' : 'NO';
    lines.push(
      `| ${MODELS[name]!.label} | ${cells.join(' | ')} | ${mo.toFixed(4)} | ${mt?.toFixed(4) ?? '–'} | ${delta} | ${ok} |`,
    );
  }
  console.log(lines.join('\n'));
  console.log(JSON.stringify({ folds, summary }));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
