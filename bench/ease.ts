/**
 * EASE speed: reelab's Float64 SPD inverse (block sweep, WebAssembly SIMD, worker threads) and the whole EASE
 * fit (primal = invert XᵀX + λI, dual = Woodbury through the users × users matrix) next to numpy/scipy
 * (OpenBLAS) on the same Gram matrix and thread count, with wall AND CPU seconds (the machine is shared).
 *   npx tsx bench/ease.ts [--datasets ml-latest-small,ml-100k] [--threads 1,2] [--repeats 3] [--lambda 250]
 *     [--block 192] [--row-block 128] [--parts inverse,fit,python,metrics] [--kernel-shapes]
 * Data: the training part of the per-user temporal split (each user's latest 20 % held out), binary X, the
 * items with training data (ml-latest-small: 610 users × 8,239 items). GFLOP/s use n³ flops for an SPD
 * inverse (Cholesky n³/3 + inverse-from-factor 2n³/3, as LAPACK potrf + potri) for every method, numpy's
 * LU-based inv included, so they are comparable rates of "inverses per second" scaled by n³.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { easeWeights } from '../lib/compute/dense-ease';
import { kernelText } from '../lib/compute/dense-kernels';
import { SpdMatrix } from '../lib/compute/dense-spd';
import { wasmApi } from '../lib/compute/ials-wasm';
import { fromCompressed, type SparseMatrix } from '../lib/compute/sparse';
import { EaseModel } from '../lib/models/ease';
import { fmt, loadSplit, machineLoad, median, rankingMetrics, runPython } from './implicit-common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(f: () => Promise<unknown>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

function medianTiming(ts: Timing[]): Timing {
  return { wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) };
}

/** Binary X over the items with training data (what EaseModel builds), users × m. */
function binaryX(dataset: string): { x: SparseMatrix; split: ReturnType<typeof loadSplit> } {
  const split = loadSplit(dataset);
  const { train } = split;
  const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
  const position = new Int32Array(train.nItems).fill(-1);
  for (let p = 0; p < full.indices.length; p++) position[full.indices[p]!] = 0;
  let m = 0;
  for (let i = 0; i < train.nItems; i++) if (position[i] === 0) position[i] = m++;
  const indices = new Int32Array(full.indices.length);
  for (let p = 0; p < indices.length; p++) indices[p] = position[full.indices[p]!]!;
  const values = new Float32Array(indices.length).fill(1);
  return { x: { nRows: train.nUsers, nCols: m, indptr: full.indptr, indices, values }, split };
}

async function gramMatrix(
  x: SparseMatrix,
  lambda: number,
  block: number,
  rowBlock: number,
): Promise<SpdMatrix> {
  const spd = await SpdMatrix.create(x.nCols, { block, rowBlock });
  const { a, ld } = spd;
  for (let u = 0; u < x.nRows; u++) {
    for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++) {
      const row = x.indices[p]! * ld;
      for (let q = x.indptr[u]!; q <= p; q++) a[row + x.indices[q]!]! += 1;
    }
  }
  for (let i = 0; i < x.nCols; i++) a[i * ld + i]! += lambda;
  return spd;
}

/** GFLOP/s of the bare micro-kernel (packed 128 × 256 · 256 × 512, one thread), per MR × NR shape. */
async function kernelShapes(): Promise<string[]> {
  const wabt = await (
    require('wabt') as () => Promise<{
      parseWat(f: string, s: string, o: object): { toBinary(o: object): { buffer: Uint8Array } };
    }>
  )();
  const api = wasmApi!;
  const lines = ['| MR × NR | GFLOP/s per CPU-second |', '| --- | --- |'];
  for (const [mr, nr] of [
    [4, 4],
    [2, 8],
    [4, 6],
    [6, 4],
    [3, 8],
    [4, 8],
  ] as const) {
    const module = new api.Module(
      wabt.parseWat('k.wat', kernelText(mr, nr), { simd: true, threads: true }).toBinary({}).buffer,
    );
    const kc = 256;
    const np = Math.floor(128 / mr);
    const nq = Math.floor(512 / nr);
    const bytes = (np * mr * kc + nq * nr * kc + np * mr * nq * nr) * 8;
    const pages = Math.ceil(bytes / 65536) + 1;
    const mem = new api.Memory({ initial: pages, maximum: pages, shared: true });
    const gemm = new api.Instance(module, { env: { mem } }).exports.gemm as (...a: number[]) => void;
    new Float64Array(mem.buffer as SharedArrayBuffer).fill(0.5);
    const bp = np * mr * kc * 8;
    const c = bp + nq * nr * kc * 8;
    const ldc = nq * nr * 8;
    for (let r = 0; r < 5; r++) gemm(0, bp, c, ldc, kc, 0, np, nq); // tier up
    const reps = 40;
    const t = await timed(async () => {
      for (let r = 0; r < reps; r++) gemm(0, bp, c, ldc, kc, 0, np, nq);
    });
    lines.push(`| ${mr} × ${nr} | ${fmt((2 * np * mr * nq * nr * kc * reps) / t.cpu / 1e9, 1)} |`);
  }
  return lines;
}

async function main(): Promise<void> {
  const datasets = arg('datasets', 'ml-latest-small').split(',');
  const threadList = arg('threads', '1,2').split(',').map(Number);
  const repeats = Number(arg('repeats', '3'));
  const lambda = Number(arg('lambda', '250'));
  const block = Number(arg('block', '192'));
  const rowBlock = Number(arg('row-block', '128'));
  const parts = new Set(arg('parts', 'inverse,fit,python,metrics').split(','));
  const out: string[] = [];
  const say = (line: string) => {
    out.push(line);
    console.log(line);
  };
  say(`started: ${new Date().toISOString()}, ${machineLoad()}`);
  if (process.argv.includes('--kernel-shapes')) for (const l of await kernelShapes()) say(l);
  for (const dataset of datasets) {
    const { x, split } = binaryX(dataset);
    const m = x.nCols;
    const flops = m ** 3;
    say(
      `\n## ${dataset}: ${x.nRows} users × ${m} items with training data, ${x.indices.length} entries, λ = ${lambda}`,
    );
    const exchange = join(__dirname, 'out', 'ease', dataset);
    const py: Record<string, unknown> = {};
    if (parts.has('python')) {
      mkdirSync(exchange, { recursive: true });
      const files = { indptr: x.indptr, indices: x.indices };
      for (const [k, v] of Object.entries(files))
        writeFileSync(join(exchange, `${k}.i32`), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      writeFileSync(
        join(exchange, 'meta.json'),
        JSON.stringify({ users: x.nRows, items: m, lambda, repeats }),
      );
      for (const t of threadList) {
        py[t] = runPython('ease.py', [exchange, '--threads', String(t), '--repeats', String(repeats)]);
      }
    }
    say('| method | threads | wall s | CPU s | GFLOP/s (n³/wall) | numpy inv / this (wall) |');
    say('| --- | --- | --- | --- | --- | --- |');
    const rate = (t: Timing) => fmt(flops / t.wall / 1e9, 1);
    let pDiag: Float64Array | null = null;
    let profile = '';
    const profiles: string[] = [];
    for (const t of threadList) {
      const pyT = py[t] as Record<string, Timing> | undefined;
      if (parts.has('inverse')) {
        const runs: Timing[] = [];
        for (let r = 0; r < repeats; r++) {
          const spd = await gramMatrix(x, lambda, block, rowBlock);
          runs.push(await timed(() => spd.invert(t)));
          profile = Object.entries(spd.profile)
            .map(([k, v]) => `${k} ${fmt(v, 2)} s`)
            .join(', ');
          if (r === 0 && t === threadList[0]) {
            pDiag = new Float64Array(m);
            for (let i = 0; i < m; i++) pDiag[i] = spd.a[i * spd.ld + i]!;
          }
        }
        const mt = medianTiming(runs);
        const ratio = pyT?.inv ? fmt(pyT.inv.wall / mt.wall, 2) : '';
        profiles.push(`${t} thread(s), last run: ${profile}`);
        say(
          `| reelab SPD inverse (block sweep, wasm f64x2) | ${t} | ${fmt(mt.wall, 2)} | ${fmt(mt.cpu, 2)} | ${rate(mt)} | ${ratio} |`,
        );
      }
      if (pyT) {
        for (const [key, label] of [
          ['inv', 'numpy.linalg.inv (LU)'],
          ['cho', 'scipy cho_factor + cho_solve(I)'],
          ['potri', 'scipy LAPACK dpotrf + dpotri'],
        ] as const) {
          const p = pyT[key];
          if (p)
            say(
              `| ${label} | ${t} | ${fmt(p.wall, 2)} | ${fmt(p.cpu, 2)} | ${rate(p)} | ${fmt(pyT.inv!.wall / p.wall, 2)} |`,
            );
        }
      }
    }
    if (profiles.length)
      say(
        `\nreelab inverse, wall seconds by part (pivot-block inverses / A_IK·M panels / update): ${profiles.join('; ')}`,
      );
    if (parts.has('fit')) {
      say('\nWhole EASE fit (B from X), reelab vs numpy:');
      say('| method | threads | wall s | CPU s |');
      say('| --- | --- | --- | --- |');
      for (const t of threadList) {
        for (const solver of ['dual', 'primal'] as const) {
          const runs: Timing[] = [];
          for (let r = 0; r < repeats; r++)
            runs.push(await timed(() => easeWeights(x, lambda, { threads: t, solver, block })));
          const mt = medianTiming(runs);
          say(`| reelab easeWeights, ${solver} | ${t} | ${fmt(mt.wall, 2)} | ${fmt(mt.cpu, 2)} |`);
        }
        const pyT = py[t] as Record<string, Timing> | undefined;
        if (pyT?.ease_primal)
          say(
            `| numpy EASE, primal (inv of dense Gram) | ${t} | ${fmt(pyT.ease_primal.wall, 2)} | ${fmt(pyT.ease_primal.cpu, 2)} |`,
          );
        if (pyT?.ease_dual)
          say(
            `| numpy EASE, dual (Woodbury) | ${t} | ${fmt(pyT.ease_dual.wall, 2)} | ${fmt(pyT.ease_dual.cpu, 2)} |`,
          );
      }
      // Exactness: primal vs dual B, and P's diagonal vs scipy's.
      const primal = await easeWeights(x, lambda, { threads: 2, solver: 'primal', block });
      const dual = await easeWeights(x, lambda, { threads: 2, solver: 'dual', block });
      let maxB = 0;
      let diff = 0;
      for (let k = 0; k < primal.b.length; k++) {
        maxB = Math.max(maxB, Math.abs(primal.b[k]!));
        diff = Math.max(diff, Math.abs(primal.b[k]! - dual.b[k]!));
      }
      say(`\nmax |B_primal − B_dual| / max |B| = ${diff / maxB} (B is Float32: 6e-8 is one rounding)`);
      if (pDiag && parts.has('python')) {
        const check = runPython('ease.py', [exchange, '--diag', '--threads', '2']);
        const scipyDiag = check.diag as number[];
        let rel = 0;
        for (let i = 0; i < m; i++)
          rel = Math.max(rel, Math.abs(pDiag[i]! - scipyDiag[i]!) / Math.abs(scipyDiag[i]!));
        say(`max relative difference of diag P, reelab inverse vs scipy cho_solve: ${rel}`);
        say(
          `a Float32 inverse (numpy) instead: max |ΔP| / max |P| = ${check.f32_p_err}, max |ΔB| / max |B| = ${check.f32_b_err}`,
        );
      }
    }
    if (parts.has('metrics')) {
      say('\nRanking (full ranking, training items excluded, temporal-user 20 % test):');
      say('| solver | P@10 | R@10 | NDCG@10 | MAP@10 | fit wall s (2 threads) |');
      say('| --- | --- | --- | --- | --- | --- |');
      for (const solver of ['dual', 'primal'] as const) {
        const model = new EaseModel({ lambda, solver });
        const t = await timed(() => model.fit(split.train, { threads: 2 }));
        const r = rankingMetrics(model, split.test);
        say(
          `| ${solver} | ${fmt(r['precision@10'])} | ${fmt(r['recall@10'])} | ${fmt(r['ndcg@10'])} | ${fmt(r['map@10'])} | ${fmt(t.wall, 2)} |`,
        );
      }
    }
  }
  say(`\nfinished: ${new Date().toISOString()}, ${machineLoad()}`);
  const file = join(__dirname, 'out', 'ease', 'last-run.md');
  mkdirSync(join(__dirname, 'out', 'ease'), { recursive: true });
  writeFileSync(file, `${out.join('\n')}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
