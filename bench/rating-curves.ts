/**
 * Learning curves of seed 004's model (als-genre) on ml-latest-small: train / validation RMSE and the objective per
 * epoch, through the model's onEpoch reports (the same numbers the evaluate workflow logs to MLflow as step
 * metrics). Random 80/20 split, seed 42; `--set k=v` overrides hyperparameters, `--model` compares another model.
 *
 *   npx tsx bench/rating-curves.ts [--data-dir ../shared/datasets] [--dataset ml-latest-small] [--model als-genre]
 *                                  [--split random:0.2] [--set epochs=25 ...]
 */
import { join, resolve } from 'node:path';
import { loadRatings } from '../lib/data/load';
import { SideInformation } from '../lib/data/side-information';
import { makeSplit } from '../lib/data/split';
import type { EpochReport } from '../lib/models/recommender';
import { createModel, parseSetArguments } from '../lib/models/registry';
import { sideInputsOf } from '../lib/models/side-inputs';
import { projectRoot } from '../lib/util/project';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const dataDir = resolve(arg('data-dir', join(projectRoot(), '..', 'shared', 'datasets')));
  const dataset = arg('dataset', 'ml-latest-small');
  const name = arg('model', 'als-genre');
  const sets: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === '--set' && process.argv[i + 1]) sets.push(process.argv[i + 1]!);
  });
  const all = loadRatings(dataset, { dataDir });
  const split = makeSplit(all, arg('split', 'random:0.2'), dataset, { dataDir, seed: 42 });
  const model = createModel(name, parseSetArguments(name, sets));
  const inputs = new SideInformation(dataset, all, { dataDir }).fitInputs(sideInputsOf(model));
  const curve: EpochReport[] = [];
  await model.fit(split.train, {
    ...inputs,
    threads: Number(arg('threads', '2')),
    validation: split.test,
    onEpoch: (e) => curve.push(e),
  });
  console.log(`${name} on ${dataset} (${split.train.size} train / ${split.test.size} validation ratings)`);
  console.log(JSON.stringify(model.params));
  console.log('| epoch | objective | train RMSE | validation RMSE | seconds |');
  console.log('|---|---|---|---|---|');
  for (const e of curve)
    console.log(
      `| ${e.epoch} | ${e.loss?.toFixed(1) ?? '–'} | ${e.trainRmse?.toFixed(4)} | ${e.validationRmse?.toFixed(4)} | ${e.seconds.toFixed(2)} |`,
    );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
