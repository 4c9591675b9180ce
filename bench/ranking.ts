/**
 * Full-ranking evaluation speed: NDCG@K / P@K over every test user of a synthetic dataset with 87k items and
 * 64 factors, reelab's full protocol (lib/eval/protocols → lib/compute/ranking, blocked wasm kernel in worker
 * threads) side by side with implicit 0.7.3's `ranking_metrics_at_k` on the same factors, train/test CSR, K
 * and thread count (bench/py/ranking.py). Both sides also report their metric values: a correctness
 * cross-check on identical inputs.
 *
 *   npx tsx bench/ranking.ts [--ratings 2000000] [--users 20000] [--items 87000] [--factors 64] [--k 10]
 *                            [--threads 1,2] [--repeats 3] [--no-python] [--out bench/results/ranking.md]
 *
 * Factors are "quickly trained" so that rankings are meaningful (non-trivial hit rates): a random-projection
 * sketch of the item co-occurrences (item_i = Σ_{v rated i} r_v / √n_i + N(0, 0.1²) noise with r_v ~ N(0, 1)^F
 * per user, then user_u = mean of the user's training items' vectors), deterministic for a seed. Exchange files (raw
 * little-endian arrays) go to bench/out/ranking/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rankWithFactors } from '../lib/compute/ranking';
import type { Interactions } from '../lib/data/interactions';
import { makeSplit } from '../lib/data/split';
import { generateSynthetic } from '../lib/data/synthetic';
import { implicitPrecision, listMetric } from '../lib/eval/metrics';
import { evaluateModel, heldOutRelevance } from '../lib/eval/protocols';
import type { FactorScorer, Recommender } from '../lib/models/recommender';
import { projectRoot, venvBin } from '../lib/util/project';
import { Rng } from '../lib/util/rng';
import { loadNote } from './machine';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const RATINGS = Number(arg('ratings', '2000000'));
const USERS = Number(arg('users', '20000'));
const ITEMS = Number(arg('items', '87000'));
const F = Number(arg('factors', '64'));
const K = Number(arg('k', '10'));
const THREADS = arg('threads', '1,2').split(',').map(Number);
const REPEATS = Number(arg('repeats', '3'));
const PYTHON = !process.argv.includes('--no-python');
const OUT = arg('out', join(projectRoot(), 'bench', 'results', 'ranking.md'));
const SEED = 42;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Random-projection co-occurrence factors (see the header). */
function sketchFactors(train: Interactions, factors: number, seed: number): FactorScorer {
  const nU = train.nUsers;
  const nI = train.nItems;
  const rng = new Rng(seed);
  const proj = new Float32Array(nU * factors);
  rng.fillNormal(proj);
  const itemFactors = new Float32Array(nI * factors);
  const csc = train.csc();
  for (let i = 0; i < nI; i++) {
    const from = csc.indptr[i]!;
    const to = csc.indptr[i + 1]!;
    if (to === from) continue;
    const scale = 1 / Math.sqrt(to - from);
    for (let p = from; p < to; p++) {
      const v = csc.indices[p]! * factors;
      for (let f = 0; f < factors; f++) itemFactors[i * factors + f]! += proj[v + f]! * scale;
    }
  }
  // a little item-specific noise: items rated by the same single user would otherwise tie exactly, and the two
  // sides break exact ties differently
  const noise = new Float32Array(nI * factors);
  rng.fillNormal(noise, 0, 0.1);
  for (let j = 0; j < noise.length; j++) itemFactors[j]! += noise[j]!;
  const userFactors = new Float32Array(nU * factors);
  const csr = train.csr();
  for (let u = 0; u < nU; u++) {
    const from = csr.indptr[u]!;
    const to = csr.indptr[u + 1]!;
    if (to === from) continue;
    for (let p = from; p < to; p++) {
      const i = csr.indices[p]! * factors;
      for (let f = 0; f < factors; f++) userFactors[u * factors + f]! += itemFactors[i + f]! / (to - from);
    }
  }
  return { kind: 'factors', factors, userFactors, itemFactors };
}

function write(dir: string, name: string, a: Float32Array | Int32Array): void {
  writeFileSync(join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

interface Runs {
  seconds: number[];
  /** CPU seconds of the process (all its threads) per run: comparable on a busy machine */
  cpuSeconds: number[];
  users: number;
}

interface OurResult extends Runs {
  threads: number;
  kernelGflops: number;
  /** from one ranking call: tiles per kernel and items rescored exactly per user */
  work: string;
}

interface PeerMetrics {
  precision: number;
  map: number;
  ndcg: number;
  auc: number;
}

interface PeerResult extends Runs {
  threads: number;
  blas: number;
  metrics: PeerMetrics;
}

interface OneRun {
  seconds: number;
  cpuSeconds: number;
  users: number;
}

/** The Python peer in --serve mode: one ranking_metrics_at_k run per request. */
async function startPeer(dir: string): Promise<{
  run(threads: number, blas: number): Promise<OneRun & { metrics: PeerMetrics }>;
  close(): void;
}> {
  const child = spawn(
    venvBin('python'),
    [join(projectRoot(), 'bench', 'py', 'ranking.py'), '--data', dir, '--serve'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('bench/py/ranking.py exited early');
    return JSON.parse(value as string);
  };
  await next(); // {"ready": true}
  return {
    async run(threads, blas) {
      child.stdin!.write(`${threads} ${blas}\n`);
      return (await next()) as OneRun & { metrics: PeerMetrics };
    },
    close() {
      child.stdin!.end();
    },
  };
}

function record(target: Runs, r: OneRun, rep: number, label: string): void {
  target.users = r.users;
  if (rep > 0) {
    target.seconds.push(r.seconds);
    target.cpuSeconds.push(r.cpuSeconds);
  }
  console.error(
    `${label} run ${rep}: ${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s), ` +
      `${(r.users / r.seconds).toFixed(0)} users/s, ${(r.users / r.cpuSeconds).toFixed(0)} users/CPU-s, load ${loadavg()[0]!.toFixed(1)}`,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  const load0 = loadavg();
  const data = generateSynthetic({ ratings: RATINGS, users: USERS, items: ITEMS, seed: SEED });
  const split = makeSplit(data.ratings, 'random:0.2', `synthetic:${RATINGS}`, { seed: SEED });
  const { train, test } = split;
  const scorer = sketchFactors(train, F, SEED);
  const dir = join(projectRoot(), 'bench', 'out', 'ranking');
  mkdirSync(dir, { recursive: true });
  const tr = train.csr();
  const te = test.csr();
  write(dir, 'user_factors.f32', scorer.userFactors);
  write(dir, 'item_factors.f32', scorer.itemFactors);
  write(dir, 'train_indptr.i32', tr.indptr);
  write(dir, 'train_indices.i32', tr.indices);
  write(dir, 'test_indptr.i32', te.indptr);
  write(dir, 'test_indices.i32', te.indices);
  const meta = {
    users: train.nUsers,
    items: train.nItems,
    factors: F,
    k: K,
    train: train.size,
    test: test.size,
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  console.error(
    `data: ${meta.users} users, ${meta.items} items, ${meta.train} train / ${meta.test} test ratings, ` +
      `${F} factors (prepared in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );

  // reelab: the full protocol end to end (relevance sets, ranking, metrics), every held-out item relevant.
  const model = { name: 'factors', batchScorer: () => scorer } as unknown as Recommender;
  const metrics = [`ndcg@${K}`, `precision@${K}`, `map@${K}`];
  const runOurs = async (threads: number): Promise<OneRun> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const [full] = await evaluateModel(model, train, test, { metrics, relevance: null, threads });
    const c = process.cpuUsage(c0);
    return {
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: (c.user + c.system) / 1e6,
      users: full!.users,
    };
  };
  const peer = PYTHON ? await startPeer(dir) : null;

  // Interleave the two sides run by run (alternating the order), so a busy machine loads both alike.
  const empty = () => ({ seconds: [], cpuSeconds: [], users: 0 });
  const ours: OurResult[] = THREADS.map((threads) => ({ ...empty(), threads, kernelGflops: 0, work: '' }));
  const peers: PeerResult[] = [];
  if (peer)
    for (const threads of THREADS)
      for (const blas of [...new Set([1, threads])])
        peers.push({ ...empty(), threads, blas, metrics: { precision: 0, map: 0, ndcg: 0, auc: 0 } });
  for (let rep = 0; rep <= REPEATS; rep++) {
    const jobs: Array<() => Promise<void>> = [];
    for (const o of ours)
      jobs.push(async () => record(o, await runOurs(o.threads), rep, `reelab threads=${o.threads}`));
    for (const p of peers)
      jobs.push(async () => {
        const r = await peer!.run(p.threads, p.blas);
        p.metrics = r.metrics;
        record(p, r, rep, `implicit threads=${p.threads} blas=${p.blas}`);
      });
    if (rep % 2 === 1) jobs.reverse();
    for (const job of jobs) await job(); // rep 0 warms up workers, JIT and BLAS
  }
  peer?.close();

  const held = heldOutRelevance(train, test, null);
  for (const o of ours) {
    // kernel-only rate and work counts from one ranking call
    const r = await rankWithFactors(scorer, held.relevantUsers, { k: K, exclude: tr, threads: o.threads });
    o.kernelGflops = r.flops / r.kernelSeconds / 1e9;
    o.work =
      `${r.work.exactTiles} f32 tiles, ${r.work.boundTiles} int16-bound tiles, ` +
      `${(r.work.rescored / r.users.length).toFixed(1)} items rescored exactly per user`;
  }
  // cross-check values on the same lists
  const lists = await rankWithFactors(scorer, held.relevantUsers, { k: K, exclude: tr, threads: THREADS[0] });
  const check = {
    ndcg: listMetric('ndcg', 'ndcg', K, lists, held.relevant).mean,
    map: listMetric('map', 'map', K, lists, held.relevant).mean,
    precisionStandard: listMetric('precision', 'precision', K, lists, held.relevant).mean,
    precisionImplicit: implicitPrecision(K, lists, held.relevant),
  };
  const load1 = loadavg();
  writeFileSync(OUT, report(meta, ours, peers, check, load0, load1));
  console.error(readFileSync(OUT, 'utf8'));
  process.exit(0);
}

type Meta = { users: number; items: number; factors: number; k: number; train: number; test: number };
type Check = { ndcg: number; map: number; precisionStandard: number; precisionImplicit: number };

function report(
  meta: Meta,
  ours: OurResult[],
  peers: PeerResult[],
  check: Check,
  load0: number[],
  load1: number[],
): string {
  const flopsPerUser = 2 * meta.factors * meta.items;
  const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const lines: string[] = [];
  lines.push('# Full-ranking evaluation: reelab vs implicit `ranking_metrics_at_k`', '');
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(`- Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}`);
  lines.push(
    `- Load average (1/5/15 min) before: ${loads(load0)}, after: ${loads(load1)} ` +
      `(${loadNote(load1[0]!)})`,
  );
  lines.push(
    `- Data: generateSynthetic({ratings: ${RATINGS}, users: ${USERS}, items: ${ITEMS}, seed: ${SEED}}), split random:0.2 → ` +
      `${meta.users} users, ${meta.items} items, ${meta.train} train / ${meta.test} test ratings; every held-out item relevant`,
  );
  lines.push(
    `- Factors: ${meta.factors}, co-occurrence sketch (bench/ranking.ts); K = ${meta.k}; ` +
      `scoring = ${flopsPerUser / 1e6} MFLOP per user (2·F·items)`,
  );
  lines.push(
    `- Command: \`npx tsx bench/ranking.ts ${process.argv.slice(2).join(' ')}\` (drives \`.venv/bin/python bench/py/ranking.py --serve\`)`,
  );
  lines.push(
    `- Timing: median of ${REPEATS} runs after one warm-up, the two sides interleaved run by run (alternating order). ` +
      'reelab = `evaluateModel` full protocol (relevance sets + ranking + metrics); implicit = `ranking_metrics_at_k` ' +
      '(batched recommend: BLAS matmul + C++ top-k, liked items filtered), its best BLAS-thread setting per row.',
  );
  lines.push('');
  lines.push(
    '| threads | reelab users/s | implicit users/s | ratio | reelab users/CPU-s | implicit users/CPU-s | ratio per CPU-s | reelab GFLOP/s (wall) | implicit GFLOP/s (wall) | reelab kernel GFLOP/s per thread |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const o of ours) {
    const ups = o.users / median(o.seconds);
    const upc = o.users / median(o.cpuSeconds);
    const best = peers
      .filter((p) => p.threads === o.threads)
      .sort((a, b) => median(a.seconds) - median(b.seconds))[0];
    const cells = [`${o.threads}`, ups.toFixed(0)];
    if (best) {
      const pups = best.users / median(best.seconds);
      const pupc = best.users / median(best.cpuSeconds);
      cells.push(
        `${pups.toFixed(0)} (BLAS ${best.blas})`,
        (ups / pups).toFixed(2),
        upc.toFixed(0),
        pupc.toFixed(0),
      );
      cells.push(
        (upc / pupc).toFixed(2),
        ((ups * flopsPerUser) / 1e9).toFixed(1),
        ((pups * flopsPerUser) / 1e9).toFixed(1),
      );
    } else {
      cells.push('n/a', 'n/a', upc.toFixed(0), 'n/a', 'n/a', ((ups * flopsPerUser) / 1e9).toFixed(1), 'n/a');
    }
    cells.push(o.kernelGflops.toFixed(1));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Runs (wall seconds; CPU seconds):', '');
  const runs = (r: Runs) =>
    `${r.seconds.map((s) => s.toFixed(2)).join(', ')}; CPU ${r.cpuSeconds.map((s) => s.toFixed(2)).join(', ')} (${r.users} users)`;
  for (const o of ours) lines.push(`- reelab, ${o.threads} thread(s): ${runs(o)}; ${o.work}`);
  for (const p of peers)
    lines.push(`- implicit, num_threads=${p.threads}, BLAS threads ${p.blas}: ${runs(p)}`);
  lines.push('');
  lines.push('## Cross-check on identical factors and splits', '');
  const peer = peers[0];
  lines.push('| metric (definition) | reelab | implicit | abs. difference |');
  lines.push('|---|---:|---:|---:|');
  const row = (name: string, a: number, b: number | undefined) =>
    lines.push(
      `| ${name} | ${a.toFixed(8)} | ${b === undefined ? 'n/a' : b.toFixed(8)} | ${
        b === undefined ? 'n/a' : Math.abs(a - b).toExponential(2)
      } |`,
    );
  row(`NDCG@${meta.k} (binary gain, IDCG over min(K, |rel|))`, check.ndcg, peer?.metrics.ndcg);
  row(`MAP@${meta.k} (AP / min(K, |rel|))`, check.map, peer?.metrics.map);
  row('implicit "precision" (Σ hits / Σ min(K, |rel|))', check.precisionImplicit, peer?.metrics.precision);
  lines.push(`| P@${meta.k} (standard: hits / K) | ${check.precisionStandard.toFixed(8)} | — | — |`);
  lines.push('');
  lines.push(
    'Scores can differ in the last float32 bits between the two sides (reelab sums the products in factor order in ' +
      'float32; BLAS uses FMA and blocked sums), which could swap near-tied items at the K-th place; the ' +
      'differences above show how much that moved the metrics.',
  );
  lines.push('');
  lines.push('## How reelab scores', '');
  lines.push(
    '- Users are scored in blocks (48) against item tiles (512 items) by WebAssembly SIMD kernels generated at run ' +
      'time for the factor count (fully unrolled, 3 users × 16 items register blocking), in worker threads over ' +
      'SharedArrayBuffer inputs; top-k by a per-user heap fed only with the 4-item groups the kernel lists as above ' +
      'the current k-th score.',
  );
  lines.push(
    '- Exact scores: float32, products summed in factor order (bit-identical across threads, block sizes and the JS ' +
      'reference). Once every list of a block is full, tiles go through an int16 kernel (`i32x4.dot_i16x8_s`, 12-bit ' +
      'quantised factors) that writes a certified upper bound of each exact score; only items whose bound exceeds the ' +
      "user's k-th best exact score are rescored exactly. The lists are identical to exhaustive float32 scoring " +
      '(tested); the int16 pass only saves time.',
  );
  lines.push(
    '- GFLOP/s counts the 2·F·items flops per user of exhaustive scoring divided by wall time (an effective rate); ' +
      'the kernel column divides by the time inside the kernels, per thread.',
  );
  lines.push('', '## Where the gap to implicit comes from (measured, not assumed)', '');
  lines.push(
    '- The target (ratio ≥ 1.0) is not met. On an Intel Xeon with AVX-512 (2026-11-22) the ratios were 0.94 (1 ' +
      'thread) and 0.91 (2 threads); on an AMD EPYC Zen 3 with AVX2 (2026-12-03) they are 0.57–0.68 and ' +
      '0.65–0.81 over four runs. implicit multiplies with OpenBLAS sgemm (256-bit FMA on AVX2 machines); ' +
      'WebAssembly SIMD is 128 bits wide and has no FMA in Node 20, so reelab works with half the vector width.',
  );
  lines.push(
    "- The int16 bound kernel takes 75% of reelab's time and runs at about 0.67 `dot_i16x8` + add pairs per " +
      'cycle against ~1.5 per cycle in a microbenchmark of the same instructions; register-blocking variants ' +
      '(users × item groups) did not move it. Pruning by item norms or a leading principal direction removes ' +
      'nothing on these isotropic factors.',
  );
  lines.push(
    '- Handing the scoring to native TensorFlow (tfjs-node, libtensorflow 2.21) was measured too: the skinny ' +
      '[users × 64]·[64 × 87k] products run at ~50 GFLOP/s on both cores (~220 µs per user before any top-k), ' +
      "which cannot beat implicit's 2-thread rate either, so it was not adopted.",
  );
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
