/**
 * Shared pieces of the implicit-feedback benchmarks: data + split, a files-on-disk exchange with the Python
 * peer (raw little-endian arrays + JSON), full-ranking metrics at K (implicit's definitions of NDCG and MAP,
 * plus per-user precision and recall), and timing helpers.
 * TODO(eval): switch to lib/eval/protocols.ts once the evaluation engineer's full-ranking protocol lands.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SparseMatrix } from '../lib/compute/sparse';
import type { Interactions } from '../lib/data/interactions';
import { loadRatings } from '../lib/data/load';
import { makeSplit } from '../lib/data/split';
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

export function metricsOfLists(
  lists: Int32Array[],
  indptr: Int32Array,
  indices: Int32Array,
  k: number,
): RankingMetrics {
  const nUsers = indptr.length - 1;
  const discount = Array.from({ length: k }, (_, j) => 1 / Math.log2(j + 2));
  let p = 0;
  let r = 0;
  let ndcg = 0;
  let map = 0;
  let users = 0;
  for (let u = 0; u < nUsers; u++) {
    const n = indptr[u + 1]! - indptr[u]!;
    if (n === 0) continue;
    const relevant = new Set(indices.subarray(indptr[u]!, indptr[u + 1]!));
    const list = lists[u]!;
    let hits = 0;
    let dcg = 0;
    let ap = 0;
    for (let j = 0; j < Math.min(k, list.length); j++) {
      if (relevant.has(list[j]!)) {
        hits++;
        dcg += discount[j]!;
        ap += hits / (j + 1);
      }
    }
    let idcg = 0;
    for (let j = 0; j < Math.min(k, n); j++) idcg += discount[j]!;
    p += hits / k;
    r += hits / n;
    ndcg += dcg / idcg;
    map += ap / Math.min(k, n);
    users++;
  }
  return {
    'precision@10': p / users,
    'recall@10': r / users,
    'ndcg@10': ndcg / users,
    'map@10': map / users,
    users,
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
