/**
 * Ensemble acceptance benchmark: on ml-100k u1…u5 and ml-latest-small (random:0.2), the `ensemble` of rating
 * models with weights learned on its validation slice, against each of its members — validation RMSE (from the
 * ensemble's report) and test RMSE of every refitted member and of the blend; plus the ranking ensemble on
 * ml-latest-small (NDCG@10). Writes bench/results/ensemble.md.
 *
 *   npx tsx bench/ensemble.ts                         # everything (~15 min on 2 busy cores)
 *   npx tsx bench/ensemble.ts --folds u1 --no-ranking # quicker
 *   npx tsx bench/ensemble.ts --neural                # also hybrid-nn and gbdt on ml-latest-small
 *   npx tsx bench/ensemble.ts --speed 3               # only: wall time of fit, workers vs one by one (3 repeats)
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadRatings } from '../lib/data/load';
import { SideInformation } from '../lib/data/side-information';
import { makeSplit } from '../lib/data/split';
import { evaluateModel } from '../lib/eval/protocols';
import { evaluateRatings } from '../lib/eval/rating';
import type { EnsembleModel, MemberSpec } from '../lib/models/ensemble';
import { createModel } from '../lib/models/registry';
import { sideInputsOf } from '../lib/models/side-inputs';
import { loadNote } from './machine';

const DATA_DIR = resolve(process.env.REELAB_DATA_DIR ?? join(__dirname, '..', '..', 'shared', 'datasets'));
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

const RATING_MEMBERS: MemberSpec[] = [
  { model: 'baseline' },
  { model: 'svd', params: { factors: 50, epochs: 30, learningRate: 0.007, reg: 0.05 } },
  { model: 'svdpp', params: { factors: 20, epochs: 20 } },
  { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
  { model: 'als-genre' },
];
const NEURAL_MEMBERS: MemberSpec[] = [
  { model: 'gbdt', params: { rounds: 200 } },
  { model: 'hybrid-nn', params: { epochs: 10 } },
];

interface Row {
  dataset: string;
  split: string;
  label: string;
  weight: number | null;
  validation: number;
  test: number;
  fitSeconds: number | null;
}

async function ratingCase(dataset: string, split: string, members: MemberSpec[]): Promise<Row[]> {
  const all = loadRatings(dataset, { dataDir: DATA_DIR, seed: 42 });
  const parts = makeSplit(all, split, dataset, { seed: 42, dataDir: DATA_DIR });
  const model = createModel('ensemble', { members }) as EnsembleModel;
  const inputs = new SideInformation(dataset, all, { dataDir: DATA_DIR, seed: 42 }).fitInputs(
    sideInputsOf(model),
  );
  const started = performance.now();
  await model.fit(parts.train, { ...inputs, threads: 2 });
  const seconds = (performance.now() - started) / 1000;
  const report = model.report();
  const rows: Row[] = report.members.map((m, i) => ({
    dataset,
    split,
    label: m.label,
    weight: m.weight,
    validation: m.validation,
    test: evaluateRatings(model.memberModels[i]!, parts.test).rmse,
    fitSeconds: m.fitSeconds + (m.refitSeconds ?? 0),
  }));
  rows.push({
    dataset,
    split,
    label: 'ensemble',
    weight: report.intercept,
    validation: report.blend,
    test: evaluateRatings(model, parts.test).rmse,
    fitSeconds: seconds,
  });
  for (const r of rows)
    console.log(
      `${dataset} ${split} ${r.label.padEnd(10)} w=${r.weight?.toFixed(4)} val=${r.validation.toFixed(4)} test=${r.test.toFixed(4)}`,
    );
  return rows;
}

async function rankingCase(dataset: string, split: string): Promise<Row[]> {
  const all = loadRatings(dataset, { dataDir: DATA_DIR, seed: 42 });
  const parts = makeSplit(all, split, dataset, { seed: 42, dataDir: DATA_DIR });
  const model = createModel('ensemble-ranking', { dataset }) as EnsembleModel;
  const started = performance.now();
  await model.fit(parts.train, { threads: 2 });
  const seconds = (performance.now() - started) / 1000;
  const report = model.report();
  const ndcg = async (m: Parameters<typeof evaluateModel>[0]) =>
    (await evaluateModel(m, parts.train, parts.test, { metrics: ['ndcg@10'], threads: 2 }))[0]!.metrics[
      'ndcg@10'
    ]!;
  const rows: Row[] = [];
  for (const [i, m] of report.members.entries())
    rows.push({
      dataset,
      split,
      label: m.label,
      weight: m.weight,
      validation: m.validation,
      test: await ndcg(model.memberModels[i]!),
      fitSeconds: m.fitSeconds + (m.refitSeconds ?? 0),
    });
  rows.push({
    dataset,
    split,
    label: 'ensemble-ranking',
    weight: report.intercept,
    validation: report.blend,
    test: await ndcg(model),
    fitSeconds: seconds,
  });
  for (const r of rows)
    console.log(
      `${dataset} ${split} ${r.label.padEnd(16)} val=${r.validation.toFixed(4)} test=${r.test.toFixed(4)}`,
    );
  return rows;
}

function table(rows: Row[], metric: string, lowerIsBetter: boolean): string {
  const lines = [
    `| dataset | split | model | weight (blend: intercept) | validation ${metric} | test ${metric} | fit s |`,
    '|---|---|---|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.dataset} | ${r.split} | ${r.label} | ${r.weight?.toFixed(4) ?? ''} | ${r.validation.toFixed(4)} | ${r.test.toFixed(4)} | ${r.fitSeconds?.toFixed(1) ?? ''} |`,
    );
  const cases = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.dataset} ${r.split}`;
    cases.set(key, [...(cases.get(key) ?? []), r]);
  }
  lines.push('', `| case | best member (test) | blend (test) | blend − best member |`, '|---|---|---:|---:|');
  for (const [key, rs] of cases) {
    const blend = rs[rs.length - 1]!;
    const members = rs.slice(0, -1);
    const best = members.reduce((a, b) => ((lowerIsBetter ? b.test < a.test : b.test > a.test) ? b : a));
    lines.push(
      `| ${key} | ${best.label} ${best.test.toFixed(4)} | ${blend.test.toFixed(4)} | ${(blend.test - best.test).toFixed(4)} |`,
    );
  }
  return lines.join('\n');
}

/** Wall time of the ensemble's fit on ml-100k u1: members in 2 worker threads vs one by one on this thread. */
async function speedCase(repeats: number): Promise<string> {
  const all = loadRatings('ml-100k', { dataDir: DATA_DIR, seed: 42 });
  const parts = makeSplit(all, 'u1', 'ml-100k', { seed: 42, dataDir: DATA_DIR });
  const variants = [
    { name: 'workers (2 lanes, members single-threaded)', parallel: true, threads: 2 },
    { name: 'one by one, members with threads: 2', parallel: false, threads: 2 },
    { name: 'one by one, members with threads: 1', parallel: false, threads: 1 },
  ];
  const lines = [
    '| fit of ensemble (5 members, ml-100k u1) | median s | runs (s) | member fits summed, median s |',
    '|---|---:|---|---:|',
  ];
  const fitOnce = async (v: (typeof variants)[number]) => {
    const model = createModel('ensemble', { members: RATING_MEMBERS, parallel: v.parallel }) as EnsembleModel;
    const inputs = new SideInformation('ml-100k', all, { dataDir: DATA_DIR, seed: 42 }).fitInputs(
      sideInputsOf(model),
    );
    const started = performance.now();
    await model.fit(parts.train, { ...inputs, threads: v.threads });
    const wall = (performance.now() - started) / 1000;
    memberSeconds.set(v.name, [
      ...(memberSeconds.get(v.name) ?? []),
      model.report().members.reduce((s, m) => s + m.fitSeconds + (m.refitSeconds ?? 0), 0),
    ]);
    return wall;
  };
  const memberSeconds = new Map<string, number[]>();
  // One untimed fit per variant first (worker start-up, module loading, JIT), then the variants interleaved.
  const firstFit = await fitOnce(variants[0]!);
  for (const v of variants.slice(1)) await fitOnce(v);
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < repeats; r++) for (const [i, v] of variants.entries()) times[i]!.push(await fitOnce(v));
  const medians = times.map((t) => t.slice().sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
  for (const [i, v] of variants.entries()) {
    const summed = memberSeconds
      .get(v.name)!
      .slice(1)
      .sort((a, b) => a - b);
    lines.push(
      `| ${v.name} | ${medians[i]!.toFixed(1)} | ${times[i]!.map((t) => t.toFixed(1)).join(', ')} | ${summed[Math.floor(summed.length / 2)]!.toFixed(1)} |`,
    );
    console.log(`${v.name}: median ${medians[i]!.toFixed(1)} s`);
  }
  lines.push('', `First fit of the process with workers (includes starting them): ${firstFit.toFixed(1)} s.`);
  lines.push(
    '',
    `Ratio one-by-one (threads 2) / workers: ${(medians[1]! / medians[0]!).toFixed(2)}×; ` +
      `one-by-one (threads 1) / workers: ${(medians[2]! / medians[0]!).toFixed(2)}×.`,
  );
  return lines.join('\n');
}

async function main() {
  if (flag('--speed')) {
    const repeats = Number(option('--speed', '3'));
    const load = loadavg()[0]!;
    const table = await speedCase(repeats);
    const out = join(__dirname, 'results', 'ensemble-speed.md');
    writeFileSync(
      out,
      [
        '# Ensemble controller: concurrent vs sequential member fits',
        '',
        `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}. ` +
          `Date: ${new Date().toISOString()}. Load average (1 min) at start ${load.toFixed(1)}, at end ` +
          `${loadavg()[0]!.toFixed(1)} (shared machine: other work was running).`,
        '',
        `Command: \`npx tsx bench/ensemble.ts --speed ${repeats}\`. All three give bit-identical weights and predictions.`,
        '',
        table,
        '',
      ].join('\n'),
    );
    console.log(`wrote ${out}`);
    return;
  }
  const folds = option('--folds', 'u1,u2,u3,u4,u5').split(',');
  const load = loadavg();
  const started = new Date();
  const rating: Row[] = [];
  for (const fold of folds) rating.push(...(await ratingCase('ml-100k', fold, RATING_MEMBERS)));
  const small = flag('--neural') ? [...RATING_MEMBERS, ...NEURAL_MEMBERS] : RATING_MEMBERS;
  rating.push(...(await ratingCase('ml-latest-small', 'random:0.2', small)));
  const ranking = flag('--no-ranking') ? [] : await rankingCase('ml-latest-small', 'random:0.2');
  const loadAfter = loadavg();
  const md = [
    '# Ensemble controller: blend vs members',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}.`,
    `Date: ${started.toISOString()}. Load average (1 min) at start ${load[0]!.toFixed(1)}, at end ${loadAfter[0]!.toFixed(1)} ` +
      `(${loadNote(loadAfter[0]!)}).`,
    '',
    `Command: \`npx tsx bench/ensemble.ts ${args.join(' ')}\`. Seed 42 for splits, validation slices and models; 2 threads.`,
    "Weights are learned on the ensemble's own validation slice (10 % of each user's training ratings), members are then",
    "refitted on the whole training part; test numbers are on the split's test part, never seen by the ensemble.",
    '',
    '## Rating ensemble (`ensemble`): RMSE',
    '',
    `Members: ${JSON.stringify(small)}`,
    '',
    table(rating, 'RMSE', true),
    '',
  ];
  if (ranking.length > 0)
    md.push(
      '## Ranking ensemble (`ensemble-ranking`, default members): NDCG@10',
      '',
      'Validation NDCG@10: every validation item relevant; test NDCG@10: held-out ratings ≥ 4 relevant (lib/eval).',
      '',
      table(ranking, 'NDCG@10', false),
      '',
    );
  const out = join(__dirname, 'results', 'ensemble.md');
  writeFileSync(out, md.join('\n'));
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
