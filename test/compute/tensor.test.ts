import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../lib/cli/doctor';
import { loadTensorFlow, measureMatMulGflops, type TF } from '../../lib/compute/tensor';
import { segmentSumInto } from '../../lib/compute/tensor-kernels';
import { estimatePeak } from '../../lib/compute/tensor-peak';
import { scoreBlockJs, TensorFactorScorer } from '../../lib/compute/tensor-scoring';
import { LEGACY_UTIL_PREDICATES, restoreLegacyUtil } from '../../lib/compute/tfjs-node-shim';
import type { FactorScorer } from '../../lib/models/recommender';
import { Rng } from '../../lib/util/rng';

/** Straightforward reference: out[s] = Σ rows k with ids[k] = s. */
function reference(x: Float32Array, ids: Int32Array, numSegments: number, inner: number): Float64Array {
  const out = new Float64Array(numSegments * inner);
  ids.forEach((s, k) => {
    if (s < 0) return;
    for (let j = 0; j < inner; j++) out[s * inner + j]! += x[k * inner + j]!;
  });
  return out;
}

function problem(seed: number, rows: number, inner: number, numSegments: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * inner);
  rng.fillNormal(x);
  const ids = new Int32Array(rows);
  for (let k = 0; k < rows; k++) ids[k] = rng.int(numSegments);
  return { x, ids };
}

describe('segmentSumInto', () => {
  it('sums rows into their segments (hand-computed)', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = new Float32Array(6);
    segmentSumInto(x, Int32Array.from([2, 0, -1, 2]), 3, 2, out);
    expect(Array.from(out)).toEqual([3, 4, 0, 0, 1 + 7, 2 + 8]);
  });

  it('rejects segment ids beyond numSegments and mismatched sizes', () => {
    expect(() =>
      segmentSumInto(new Float32Array(2), Int32Array.from([0, 3]), 3, 1, new Float32Array(3)),
    ).toThrow(/segment id 3/);
    expect(() =>
      segmentSumInto(new Float32Array(3), Int32Array.from([0, 1]), 3, 1, new Float32Array(3)),
    ).toThrow(RangeError);
  });
});

function checkBackendKernels(tf: TF): void {
  const { x, ids } = problem(7, 500, 8, 60);
  const expected = reference(x, ids, 60, 8);
  const got = tf.unsortedSegmentSum(tf.tensor2d(x, [500, 8]), tf.tensor1d(ids, 'int32'), 60).dataSync();
  expect(got.length).toBe(expected.length);
  for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(expected[k]!, 4);

  // The gradient of Σ w ⊙ gather(table, idx) w.r.t. the table is the segment sum of w: what embeddings need.
  const table = tf.variable(tf.zeros([60, 8]));
  const w = tf.tensor2d(x, [500, 8]);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(tf.gather(table, tf.tensor1d(ids, 'int32')), w)),
    [table],
  );
  const g = grads[table.name]!.dataSync();
  for (let k = 0; k < g.length; k++) expect(g[k]).toBeCloseTo(expected[k]!, 4);
  table.dispose();
}

describe('tensor backends', () => {
  it('auto picks the best backend, and the native one when REELAB_TF_REQUIRE_NATIVE=1', async () => {
    const h = await loadTensorFlow();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(h.backend);
    expect(h.tf.getBackend()).toBe(h.backend);
    expect(h.reason.length).toBeGreaterThan(0);
    if (process.env.REELAB_TF_REQUIRE_NATIVE === '1') expect(h.backend).toBe('tensorflow');
    const c = h.tf
      .matMul(
        h.tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        h.tf.tensor2d([
          [5, 6],
          [7, 8],
        ]),
      )
      .dataSync();
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });

  it.each(['cpu', 'wasm'] as const)(
    'the %s backend has a correct UnsortedSegmentSum and gather gradient',
    async (name) => {
      const h = await loadTensorFlow({ backend: name });
      expect(h.backend).toBe(name);
      checkBackendKernels(h.tf);
    },
  );

  it('the native backend (when installed) agrees with the reference', async () => {
    let h: Awaited<ReturnType<typeof loadTensorFlow>>;
    try {
      h = await loadTensorFlow({ backend: 'tensorflow' });
    } catch (err) {
      if (process.env.REELAB_TF_REQUIRE_NATIVE === '1') throw err;
      expect(String(err)).toMatch(/setup-tf\.sh/);
      return;
    }
    expect(h.backend).toBe('tensorflow');
    checkBackendKernels(h.tf);
  });

  it('REELAB_TF_BACKEND chooses the backend of auto, and an unknown name is a clear error', async () => {
    const saved = process.env.REELAB_TF_BACKEND;
    process.env.REELAB_TF_BACKEND = 'gpu';
    try {
      await expect(loadTensorFlow()).rejects.toThrow(/REELAB_TF_BACKEND: "gpu"/);
      process.env.REELAB_TF_BACKEND = 'cpu';
      const h = await loadTensorFlow({ backend: 'auto' });
      expect(h.backend).toBe('cpu');
      expect(h.reason).toMatch(/REELAB_TF_BACKEND/);
    } finally {
      if (saved === undefined) delete process.env.REELAB_TF_BACKEND;
      else process.env.REELAB_TF_BACKEND = saved;
    }
  });

  it('measures matMul throughput on the current backend', async () => {
    const h = await loadTensorFlow({ backend: 'cpu' });
    const m = measureMatMulGflops(h.tf, 64, 3);
    expect(m.gflops).toBeGreaterThan(0);
    expect(Number.isFinite(m.medianMs)).toBe(true);
  });
});

describe('tfjs-node util shim (util.is* removed in Node 23)', () => {
  const names = [
    'isArray',
    'isBoolean',
    'isBuffer',
    'isDate',
    'isError',
    'isFunction',
    'isNull',
    'isNullOrUndefined',
    'isNumber',
    'isObject',
    'isPrimitive',
    'isRegExp',
    'isString',
    'isSymbol',
    'isUndefined',
  ];
  const date = new Date(0);
  const regexp = /x/;
  const error = new TypeError('t');
  const errorLike = Object.create(Error.prototype) as object;
  const buffer = Buffer.from('b');
  const fn = () => 1;
  const sym = Symbol('s');
  const arr = [1];
  const obj = { a: 1 };
  const values: Record<string, unknown> = {
    null: null,
    undefined,
    zero: 0,
    nan: Number.NaN,
    string: 's',
    emptyString: '',
    boolean: false,
    symbol: sym,
    bigint: 1n,
    array: arr,
    object: obj,
    fn,
    date,
    regexp,
    error,
    errorLike,
    buffer,
    boxedString: Object('s'),
  };
  // Which of `values` each predicate accepted in Node ≤ 22 (lib/util.js), written out by hand.
  const truthy: Record<string, string[]> = {
    isArray: ['array'],
    isBoolean: ['boolean'],
    isBuffer: ['buffer'],
    isDate: ['date'],
    isError: ['error', 'errorLike'],
    isFunction: ['fn'],
    isNull: ['null'],
    isNullOrUndefined: ['null', 'undefined'],
    isNumber: ['zero', 'nan'],
    isObject: ['array', 'object', 'date', 'regexp', 'error', 'errorLike', 'buffer', 'boxedString'],
    isPrimitive: ['null', 'undefined', 'zero', 'nan', 'string', 'emptyString', 'boolean', 'symbol', 'bigint'],
    isRegExp: ['regexp'],
    isString: ['string', 'emptyString'],
    isSymbol: ['symbol'],
    isUndefined: ['undefined'],
  };

  it('adds every predicate to an object lacking them, each with the old semantics', () => {
    const target: Record<string, unknown> = {};
    expect(restoreLegacyUtil(target)).toEqual(names);
    expect(Object.keys(LEGACY_UTIL_PREDICATES)).toEqual(names);
    for (const name of names) {
      const pred = target[name] as (arg: unknown) => boolean;
      const accepted = Object.keys(values).filter((k) => pred(values[k]));
      expect({ name, accepted }).toEqual({ name, accepted: truthy[name] });
    }
  });

  it('adds only the missing ones and leaves existing functions untouched; a second call adds nothing', () => {
    const own = () => true;
    const target: Record<string, unknown> = { isArray: own, isString: own, isNumber: 'not a function' };
    const added = restoreLegacyUtil(target);
    expect(added).toEqual(names.filter((n) => n !== 'isArray' && n !== 'isString'));
    expect(target.isArray).toBe(own);
    expect(target.isString).toBe(own);
    expect((target.isNumber as (a: unknown) => boolean)(1)).toBe(true);
    expect(restoreLegacyUtil(target)).toEqual([]);
  });

  it("restores exactly the functions this Node's util lacks (fresh process), and tfjs-node's util.isNullOrUndefined works", () => {
    const root = join(__dirname, '..', '..');
    const script = `
      require('tsx/cjs/api').register();
      const util = require('node:util');
      const names = ${JSON.stringify(names)};
      const missing = names.filter((n) => typeof util[n] !== 'function');
      const before = Object.fromEntries(names.filter((n) => !missing.includes(n)).map((n) => [n, util[n]]));
      const added = require('./lib/compute/tfjs-node-shim.ts').restoreLegacyUtil();
      const kept = Object.entries(before).every(([n, f]) => util[n] === f);
      const all = names.every((n) => typeof util[n] === 'function');
      const works = util.isNullOrUndefined(null) && util.isNullOrUndefined(undefined) && !util.isNullOrUndefined(0);
      console.log(JSON.stringify({ major: Number(process.versions.node.split('.')[0]), missing, added, kept, all, works }));`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const r = JSON.parse(run.stdout) as {
      major: number;
      missing: string[];
      added: string[];
      kept: boolean;
      all: boolean;
      works: boolean;
    };
    expect(r.added).toEqual(r.missing);
    if (r.major >= 23) expect(r.missing).toContain('isNullOrUndefined');
    else expect(r.missing).toEqual([]);
    expect(r.kept).toBe(true);
    expect(r.all).toBe(true);
    expect(r.works).toBe(true);
  });
});

describe('TensorFactorScorer', () => {
  it('scores user blocks like the typed-array loop (hand-checked entry included)', async () => {
    const rng = new Rng(4);
    const k = 6;
    const model: FactorScorer = {
      kind: 'factors',
      factors: k,
      userFactors: new Float32Array(5 * k),
      itemFactors: new Float32Array(37 * k),
      userBias: new Float32Array(5),
      itemBias: new Float32Array(37),
      globalBias: 3.25,
    };
    for (const a of [model.userFactors, model.itemFactors, model.userBias!, model.itemBias!])
      rng.fillNormal(a);
    const users = Int32Array.from([4, 0, 2]);
    const expected = scoreBlockJs(model, users, new Float32Array(3 * 37));
    let manual = 3.25 + model.userBias![0]! + model.itemBias![10]!;
    for (let f = 0; f < k; f++) manual += model.userFactors[f]! * model.itemFactors[10 * k + f]!;
    expect(expected[37 + 10]).toBeCloseTo(manual, 5);
    for (const backend of ['auto', 'cpu'] as const) {
      const { tf } = await loadTensorFlow({ backend });
      const scorer = new TensorFactorScorer(tf, model);
      const got = scorer.scoreBlock(users);
      scorer.dispose();
      for (let p = 0; p < got.length; p++) expect(got[p]).toBeCloseTo(expected[p]!, 4);
    }
  });
});

describe('estimatePeak', () => {
  it('multiplies cores, nominal GHz and FLOPs/cycle of the widest vector unit', () => {
    const cores = availableParallelism();
    const avx512 = estimatePeak(
      'model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\ncpu MHz\t: 3000.0\nflags\t: sse2 avx avx2 fma avx512f\n',
    );
    expect(avx512.flopsPerCycle).toBe(64);
    expect(avx512.ghz).toBeCloseTo(2.1, 6);
    expect(avx512.gflops).toBeCloseTo(cores * 2.1 * 64, 6);
    const avx2 = estimatePeak('model name\t: Some CPU\ncpu MHz\t: 2500.000\nflags\t: sse2 avx avx2 fma\n');
    expect(avx2.flopsPerCycle).toBe(32);
    expect(avx2.ghz).toBeCloseTo(2.5, 6);
    expect(estimatePeak('flags\t: sse2 avx\ncpu MHz\t: 1000\n').flopsPerCycle).toBe(16);
  });
});

describe('reelab doctor --json', () => {
  it('prints one JSON object with the backend, its measured GFLOP/s and the peak estimate', () => {
    const root = join(__dirname, '..', '..');
    // Exit status is 1 when some other tool (venv, tslab kernel) is missing; the JSON is printed either way.
    const run = spawnSync(
      process.execPath,
      [join(root, 'bin', 'reelab.js'), 'doctor', '--json', '--backend', 'cpu', '--size', '64'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    const stdout = run.stdout.trim();
    expect(stdout.split('\n')).toHaveLength(1);
    const r = JSON.parse(stdout) as DoctorReport;
    expect(r.node.version).toBe(process.version);
    expect(r.tensorflow.backend).toBe('cpu');
    expect(r.tensorflow.reason).toMatch(/requested/);
    expect(r.tensorflow.matMul?.n).toBe(64);
    expect(r.tensorflow.matMul!.gflops).toBeGreaterThan(0);
    expect(r.tensorflow.peak.gflops).toBeGreaterThan(0);
    expect(r.tensorflow.efficiency).toBeCloseTo(r.tensorflow.matMul!.gflops / r.tensorflow.peak.gflops, 9);
    expect(r.python.ok).toBe(r.venv.ok);
  });
});
