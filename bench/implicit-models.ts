/**
 * Ranking metrics of every implicit/top-N model on the real datasets, per-user temporal split (latest 20 % of
 * each user's ratings are the test part), full ranking with training items excluded.
 *   npx tsx bench/implicit-models.ts [--datasets ml-latest-small,ml-100k] [--threads 2] [--models ials,bpr,...]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../lib/data/load';
import { ContentModel } from '../lib/models/content';
import type { Recommender } from '../lib/models/recommender';
import { createModel } from '../lib/models/registry';
import { DATA_DIR, fmt, loadSplit, machineLoad, rankingMetrics } from './implicit-common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** Settings per row of the table: registry name + params. */
const CONFIGS: Array<{ label: string; model: string; params: Record<string, unknown> }> = [
  { label: 'ials', model: 'ials', params: { factors: 64, regularization: 0.05, alpha: 10, iterations: 15 } },
  {
    label: 'bpr',
    model: 'bpr',
    params: { factors: 64, learningRate: 0.01, regularization: 0.01, iterations: 100 },
  },
  { label: 'lmf', model: 'lmf', params: { factors: 30, iterations: 30 } },
  { label: 'ease', model: 'ease', params: { lambda: 250 } },
  { label: 'item-knn cosine', model: 'item-knn', params: { k: 50, weighting: 'cosine' } },
  { label: 'item-knn tfidf', model: 'item-knn', params: { k: 50, weighting: 'tfidf' } },
  { label: 'item-knn bm25', model: 'item-knn', params: { k: 50, weighting: 'bm25' } },
  { label: 'content', model: 'content', params: {} },
  { label: 'popularity', model: 'popularity', params: {} },
  { label: 'random', model: 'random', params: {} },
];

async function main(): Promise<void> {
  const datasets = arg('datasets', 'ml-latest-small,ml-100k').split(',');
  const threads = Number(arg('threads', '2'));
  const only = arg('models', '');
  const lines = [
    '| dataset | model | P@10 | R@10 | NDCG@10 | MAP@10 | fit s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const dataset of datasets) {
    const { train, test } = loadSplit(dataset);
    for (const c of CONFIGS) {
      if (only && !only.split(',').includes(c.label) && !only.split(',').includes(c.model)) continue;
      const model: Recommender = createModel(c.model, c.params);
      // The content model's side information: the catalogue with tags and genome (read before the clock starts).
      const catalogue =
        model instanceof ContentModel
          ? loadDataset(dataset, { dataDir: DATA_DIR, parts: ['tags', 'genome'] }).movies
          : undefined;
      const started = performance.now();
      await model.fit(train, { threads, ...(catalogue ? { catalogue } : {}) });
      const seconds = (performance.now() - started) / 1000;
      const m = rankingMetrics(model, test);
      const line = `| ${dataset} | ${c.label} | ${fmt(m['precision@10'])} | ${fmt(m['recall@10'])} | ${fmt(m['ndcg@10'])} | ${fmt(m['map@10'])} | ${fmt(seconds, 2)} |`;
      console.error(line);
      lines.push(line);
    }
  }
  const out = `${lines.join('\n')}\n\n${machineLoad()}; ${threads} threads\n`;
  console.log(out);
  writeFileSync(join(__dirname, 'out', `implicit-models-${datasets.join('+')}.md`), out);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
