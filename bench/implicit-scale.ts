/**
 * Scale check: iALS (64 factors, 2 threads by default) on synthetic:32000000, trained to completion; prints
 * time per iteration and the process's peak RSS (worker threads included: they share the process).
 *   npx tsx bench/implicit-scale.ts [--ratings 32000000] [--iterations 15] [--threads 2] [--model ials|bpr]
 */
import { loadRatings } from '../lib/data/load';
import { BprModel } from '../lib/models/bpr';
import { IalsModel } from '../lib/models/ials';
import type { Recommender } from '../lib/models/recommender';
import { fmt, machineLoad, median } from './implicit-common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const rssGb = () => process.resourceUsage().maxRSS / 1024 / 1024;

async function main(): Promise<void> {
  const ratings = Number(arg('ratings', '32000000'));
  const iterations = Number(arg('iterations', '15'));
  const threads = Number(arg('threads', '2'));
  const which = arg('model', 'ials');
  let t = performance.now();
  const data = loadRatings(`synthetic:${ratings}`);
  console.error(
    `loaded ${data.size} ratings, ${data.nUsers} users × ${data.nItems} items in ${fmt((performance.now() - t) / 1000, 1)} s; peak RSS ${fmt(rssGb(), 2)} GB`,
  );
  const model: Recommender =
    which === 'bpr'
      ? new BprModel({ factors: 64, iterations })
      : new IalsModel({ factors: 64, iterations, computeLoss: arg('loss', 'false') === 'true' });
  const epochs: number[] = [];
  t = performance.now();
  await model.fit(data, {
    threads,
    onEpoch: (e) => {
      epochs.push(e.seconds);
      console.error(
        `  iteration ${e.epoch}/${e.epochs}: ${fmt(e.seconds, 2)} s${e.loss !== undefined ? `, loss ${fmt(e.loss, 6)}` : ''}; peak RSS ${fmt(rssGb(), 2)} GB`,
      );
    },
  });
  const total = (performance.now() - t) / 1000;
  const top = model.recommend(0, 10);
  const summary = {
    model: which,
    ratings: data.size,
    users: data.nUsers,
    items: data.nItems,
    factors: 64,
    threads,
    iterations,
    fitSeconds: total,
    medianIterationSeconds: median(epochs),
    peakRssGb: rssGb(),
    firstRecommendation: top.items[0],
    load: machineLoad(),
  };
  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
