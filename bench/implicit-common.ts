/**
 * Shared pieces of the implicit-feedback benchmarks: data + split, a files-on-disk exchange with the Python
 * peer (raw little-endian arrays + JSON), full-ranking metrics at K from lib/eval (implicit's definitions of
 * NDCG and MAP, per-user precision and recall), and timing helpers.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SparseMatrix } from '../lib/compute/sparse';
import type { Interactions } from '../lib/data/interactions';
import { loadRatings } from '../lib/data/load';
import { makeSplit } from '../lib/data/split';
import { type ListMetric, listMetric, type RankedLists } from '../lib/eval/metrics';
import type { Recommender } from '../lib/models/recommender';
import { projectRoot, venvBin } from '../lib/util/project';

export const DATA_DIR = resolve(
  process.env.REELAB_DATA_DIR ?? join(__dirname, '..', '..', 'shared', 'datasets'),
);

export interface SplitData {
  dataset: string;
  train: Interactions;
  test: Interactions;
}

/** Per-user temporal split: each user's latest `fraction` of ratings is the test part. */
export function loadSplit(dataset: string, fraction = 0.2): SplitData {
  const all = loadRatings(dataset, { dataDir: DATA_DIR });
  const split = makeSplit(all, `temporal-user:${fraction}`, dataset, { dataDir: DATA_DIR });
  return { dataset, train: split.train, test: split.test };
}

export interface RankingMetrics {
  'precision@10': number;
  'recall@10': number;
  'ndcg@10': number;
  'map@10': number;
  users: number;
}

/**
 * Full ranking at K over every user with test items: the model ranks all items, training items excluded;
 * every test interaction is relevant. NDCG and MAP as implicit's `ranking_metrics_at_k` (IDCG and the AP
 * denominator use min(K, |test|)); precision = hits / K and recall = hits / |test|, averaged over users.
 */
export function rankingMetrics(model: Recommender, test: Interactions, k = 10): RankingMetrics {
  const { indptr, indices } = test.csr();
  const lists: Int32Array[] = [];
  for (let u = 0; u < test.nUsers; u++) {
    lists.push(indptr[u + 1]! > indptr[u]! ? model.recommend(u, k).items : new Int32Array(0));
  }
  return metricsOfLists(lists, indptr, indices, k);
}

/**
 * P@k, R@k, NDCG@k and MAP@k (implicit's definitions, as lib/eval implements them) over the users with
 * held-out items; every held-out item is relevant.
 */
export function metricsOfLists(
  lists: Int32Array[],
  indptr: Int32Array,
  indices: Int32Array,
  k: number,
): RankingMetrics {
  const users: number[] = [];
  for (let u = 0; u < indptr.length - 1; u++) if (indptr[u + 1]! > indptr[u]!) users.push(u);
  const ranked: RankedLists = {
    users: Int32Array.from(users),
    k,
    items: new Int32Array(users.length * k),
    counts: new Int32Array(users.length),
  };
  users.forEach((u, r) => {
    const list = lists[u]!.subarray(0, k);
    ranked.items.set(list, r * k);
    ranked.counts[r] = list.length;
  });
  const relevant = { indptr, indices };
  const mean = (metric: ListMetric) => listMetric(`${metric}@${k}`, metric, k, ranked, relevant).mean;
  return {
    'precision@10': mean('precision'),
    'recall@10': mean('recall'),
    'ndcg@10': mean('ndcg'),
    'map@10': mean('map'),
    users: users.length,
  };
}

/** Writes arrays as raw little-endian files plus meta.json into `dir` (the Python peer reads them). */
export function writeExchange(
  dir: string,
  arrays: Record<string, Int32Array | Float32Array>,
  meta: Record<string, unknown>,
): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, { dtype: string; length: number }> = {};
  for (const [name, a] of Object.entries(arrays)) {
    writeFileSync(join(dir, `${name}.bin`), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    files[name] = { dtype: a instanceof Int32Array ? 'int32' : 'float32', length: a.length };
  }
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify({ ...meta, files }, null, 2)}\n`);
}

export function csrArrays(prefix: string, m: SparseMatrix): Record<string, Int32Array | Float32Array> {
  return { [`${prefix}_indptr`]: m.indptr, [`${prefix}_indices`]: m.indices, [`${prefix}_values`]: m.values };
}

/** Runs a Python peer from the venv and parses the one JSON object it prints last on stdout. */
export function runPython(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Record<string, unknown> {
  const out = execFileSync(venvBin('python'), [join(projectRoot(), 'bench', 'py', script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** 1-minute load average and core count, for the results' "how loaded was the machine" line. */
export function machineLoad(): string {
  const os = require('node:os') as typeof import('node:os');
  return `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} on ${os.availableParallelism()} cores`;
}
