/**
 * How well does folding in a new user work, and which regularisation should serving use by default?
 * ml-latest-small: 100 users (seeded) are held out entirely; models are fitted on everyone else. Each held-out
 * user with ≥ 20 ratings gives a 10-rating profile (seeded) and keeps the rest as the test part. Reported per
 * setting: RMSE on the test part (rating models) and recall@10 of the test movies rated ≥ 4 (profile movies left
 * out of the lists).
 *   npx tsx bench/serve-cold-start.ts [--data-dir DIR]
 */
import { topK } from '../lib/compute/topk';
import { loadRatings } from '../lib/data/load';
import type { BaselineModel } from '../lib/models/baseline';
import type { Recommender } from '../lib/models/recommender';
import { createModel } from '../lib/models/registry';
import {
  foldInBaseline,
  foldInExplicit,
  foldInImplicit,
  type ScoresForUser,
} from '../lib/serving/cold-start';
import { Rng } from '../lib/util/rng';

const dataDir = process.argv.includes('--data-dir')
  ? process.argv[process.argv.indexOf('--data-dir') + 1]
  : (process.env.REELAB_DATA_DIR ?? '../shared/datasets');
const PROFILE = 10;

interface Case {
  items: Int32Array;
  ratings: Float32Array;
  testItems: Int32Array;
  testRatings: Float32Array;
}

async function main(): Promise<void> {
  const all = loadRatings('ml-latest-small', { dataDir });
  const rng = new Rng(7);
  const perm = rng.permutation(all.nUsers);
  const heldOut = new Uint8Array(all.nUsers);
  for (let p = 0; p < 100; p++) heldOut[perm[p]!] = 1;
  const mask = new Uint8Array(all.size);
  for (let r = 0; r < all.size; r++) mask[r] = heldOut[all.users[r]!] ? 0 : 1;
  const train = all.filter(mask);
  const csr = all.csr();
  const cases: Case[] = [];
  for (let u = 0; u < all.nUsers; u++) {
    if (!heldOut[u]) continue;
    const n = csr.indptr[u + 1]! - csr.indptr[u]!;
    if (n < 20) continue;
    const order = Rng.derive(11, u).permutation(n);
    const pick = (from: number, to: number) => {
      const items = new Int32Array(to - from);
      const ratings = new Float32Array(to - from);
      for (let q = from; q < to; q++) {
        items[q - from] = csr.indices[csr.indptr[u]! + order[q]!]!;
        ratings[q - from] = csr.values[csr.indptr[u]! + order[q]!]!;
      }
      return { items, ratings };
    };
    const profile = pick(0, PROFILE);
    const test = pick(PROFILE, n);
    cases.push({ ...profile, testItems: test.items, testRatings: test.ratings });
  }
  console.log(`held-out users with ≥ 20 ratings: ${cases.length}; training ratings ${train.size}`);

  const rows: string[] = [];
  const report = (model: string, setting: string, fold: (c: Case) => ScoresForUser, rating: boolean) => {
    const scores = new Float32Array(all.nItems);
    const mark = new Int32Array(all.nItems);
    let se = 0;
    let n = 0;
    let recall = 0;
    let users = 0;
    cases.forEach((c, ci) => {
      fold(c).scoreAll(scores);
      if (rating) {
        for (let q = 0; q < c.testItems.length; q++) {
          const p = Math.min(5, Math.max(0.5, scores[c.testItems[q]!]!));
          se += (p - c.testRatings[q]!) ** 2;
          n++;
        }
      }
      for (const i of c.items) mark[i] = ci + 1;
      const top = topK(scores, 10, mark, ci + 1);
      const relevant = new Set<number>();
      c.testItems.forEach((i, q) => {
        if (c.testRatings[q]! >= 4) relevant.add(i);
      });
      if (relevant.size > 0) {
        let hits = 0;
        for (const i of top.items) if (relevant.has(i)) hits++;
        recall += hits / Math.min(10, relevant.size);
        users++;
      }
    });
    const line = `| ${model} | ${setting} | ${rating ? Math.sqrt(se / n).toFixed(4) : '–'} | ${(recall / users).toFixed(4)} |`;
    rows.push(line);
    console.log(line);
  };

  const baseline = createModel('baseline') as BaselineModel;
  await baseline.fit(train);
  report('baseline', 'bias only (regUser 15)', (c) => foldInBaseline(baseline, c.items, c.ratings), true);

  const svd: Recommender = createModel('svd', { seed: 42 });
  await svd.fit(train);
  const svdScorer = svd.batchScorer!()!;
  for (const reg of [0.1, 1, 2, 5, 10, 20, 50]) {
    for (const regBias of [1, 5, 15]) {
      report(
        'svd',
        `reg ${reg}, regBias ${regBias}`,
        (c) => foldInExplicit(svdScorer, c.items, c.ratings, { reg, regBias }),
        true,
      );
    }
  }

  const ials: Recommender = createModel('ials', { seed: 42 });
  await ials.fit(train);
  const ialsScorer = ials.batchScorer!()!;
  for (const reg of [0.01, 0.1, 1, 10]) {
    for (const alpha of [1, 10, 40]) {
      report(
        'ials',
        `reg ${reg}, alpha ${alpha}`,
        (c) => foldInImplicit(ialsScorer, c.items, { reg, alpha }),
        false,
      );
    }
  }
  console.log('\n| model | fold-in setting | test RMSE | recall@10 (≥ 4) |\n| --- | --- | ---: | ---: |');
  console.log(rows.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
