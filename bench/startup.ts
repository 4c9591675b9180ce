/**
 * Start-up cost of the `reelab` command: wall time of `node bin/reelab.js --help` and of the fixed overhead of
 * `reelab evaluate` (the global-mean model on 1000 synthetic ratings, so nearly all of it is start-up: Node,
 * loading the library, parsing flags, printing), medians of N runs, for
 *   - build:    the compiled lib/ (what bin/reelab.js runs when .build/ matches lib/; here a private build in
 *               bench/out/startup-build, REELAB_BUILD=require so a stale build fails instead of falling back),
 *   - tsx:      the same checkout through tsx (REELAB_BUILD=off: what runs while lib/ is newer than the build),
 *   - baseline: the committed HEAD (or --baseline <rev>) unpacked with `git archive` into bench/out, through tsx
 *               as it starts itself (before this change: tsx transpiling and importing the whole library),
 * plus `node -e 0` (the floor) and an SVD evaluate with and without the WebAssembly binary cache. Runs are
 * interleaved (one of each variant per round) so load drifts hit all alike; one warm-up round is not counted.
 * Writes bench/results/startup.md.
 *   npx tsx bench/startup.ts [--runs 9] [--baseline HEAD] [--out bench/results/startup.md]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { loadNote } from './machine';

const HELP_TARGET_MS = 150;
const EVALUATE_TARGET_MS = 200;

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const k = args.indexOf(`--${name}`);
  return k >= 0 && args[k + 1] ? args[k + 1]! : fallback;
};
const runs = Number(arg('runs', '9'));
if (!(Number.isInteger(runs) && runs >= 7)) throw new Error(`--runs must be an integer ≥ 7, got ${runs}`);
const baselineRev = arg('baseline', 'HEAD');
const root = join(__dirname, '..');
const outFile = join(root, arg('out', 'bench/results/startup.md'));
const work = join(root, 'bench', 'out');
const buildDir = join(work, 'startup-build');
const baselineDir = join(work, 'startup-baseline');

const git = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
const commit = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'bin') !== '';
const baselineCommit = git('rev-parse', '--short', baselineRev);
const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
const fmtLoad = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

function build(): void {
  execFileSync('node', ['-e', 'require("./bin/reelab.js").buildLib(process.argv[1])', buildDir], {
    cwd: root,
  });
}

// The baseline: bin/ and lib/ of that commit, next to this checkout's node_modules (found by walking up).
rmSync(baselineDir, { recursive: true, force: true });
mkdirSync(baselineDir, { recursive: true });
execFileSync('sh', [
  '-c',
  `git archive ${baselineRev} bin lib package.json tsconfig.json | tar -x -C "${baselineDir}"`,
]);
build();

const EVALUATE = [
  'evaluate',
  '--dataset',
  'synthetic:1000',
  '--split',
  'random:0.2',
  '--model',
  'global-mean',
];
const SVD = ['evaluate', '--dataset', 'synthetic:1000', '--split', 'random:0.2', '--model', 'svd'];
const TAIL = ['--no-track', '--json'];
interface Variant {
  id: string;
  label: string;
  cwd: string;
  argv: string[];
  env?: Record<string, string>;
}
const env = (mode: string, extra: Record<string, string> = {}) => ({
  REELAB_BUILD: mode,
  REELAB_BUILD_DIR: buildDir,
  ...extra,
});
const variants: Variant[] = [
  { id: 'floor', label: '`node -e 0` (floor)', cwd: root, argv: ['-e', '0'] },
  {
    id: 'help-build',
    label: '`--help`, build',
    cwd: root,
    argv: ['bin/reelab.js', '--help'],
    env: env('require'),
  },
  { id: 'help-tsx', label: '`--help`, tsx', cwd: root, argv: ['bin/reelab.js', '--help'], env: env('off') },
  { id: 'help-base', label: '`--help`, baseline', cwd: baselineDir, argv: ['bin/reelab.js', '--help'] },
  {
    id: 'eval-build',
    label: 'evaluate global-mean, build',
    cwd: root,
    argv: ['bin/reelab.js', ...EVALUATE, ...TAIL],
    env: env('require'),
  },
  {
    id: 'eval-tsx',
    label: 'evaluate global-mean, tsx',
    cwd: root,
    argv: ['bin/reelab.js', ...EVALUATE, ...TAIL],
    env: env('off'),
  },
  {
    id: 'eval-base',
    label: 'evaluate global-mean, baseline',
    cwd: baselineDir,
    argv: ['bin/reelab.js', ...EVALUATE, ...TAIL],
  },
  {
    id: 'svd-build',
    label: 'evaluate svd (1 epoch), build',
    cwd: root,
    argv: ['bin/reelab.js', ...SVD, '--set', 'epochs=1', ...TAIL],
    env: env('require'),
  },
  {
    id: 'svd-build-nocache',
    label: 'evaluate svd (1 epoch), build, REELAB_WASM_CACHE=off',
    cwd: root,
    argv: ['bin/reelab.js', ...SVD, '--set', 'epochs=1', ...TAIL],
    env: env('require', { REELAB_WASM_CACHE: 'off' }),
  },
];

/** CPU time (user + system, ms) of this process's finished children, from /proc (10 ms ticks). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (fields 16, 17) at 100 ticks/s
}

/** One timed run: wall and CPU ms; rebuilt and repeated when lib/ changed since the build (work in the checkout). */
function time(v: Variant): { wall: number; cpu: number } {
  for (let attempt = 0; ; attempt++) {
    const c0 = childrenCpuMs();
    const t0 = process.hrtime.bigint();
    const r = spawnSync('node', v.argv, {
      cwd: v.cwd,
      env: { ...process.env, MLFLOW_TRACKING_URI: '', ...v.env },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = childrenCpuMs() - c0;
    if (r.status === 0) {
      if (v.argv.includes('--json')) JSON.parse(r.stdout); // the contract: one JSON object
      return { wall, cpu };
    }
    if (attempt < 3 && /since the build/.test(r.stderr)) {
      build();
      continue;
    }
    throw new Error(`${v.label} failed (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  }
}

const loadBefore = fmtLoad();
const load1 = [loadavg()[0]!];
const samples = new Map<string, number[]>(variants.map((v) => [v.id, []]));
const cpuSamples = new Map<string, number[]>(variants.map((v) => [v.id, []]));
for (const v of variants) time(v); // warm-up: tsx's transform cache, V8's compile cache, the wasm cache
for (let round = 0; round < runs; round++) {
  for (const v of variants) {
    const t = time(v);
    samples.get(v.id)!.push(t.wall);
    cpuSamples.get(v.id)!.push(t.cpu);
  }
  load1.push(loadavg()[0]!);
  process.stderr.write(`round ${round + 1}/${runs}\n`);
}
const loadAfter = fmtLoad();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const med = (id: string, from = samples) => median(from.get(id)!);
const ms = (x: number) => `${x.toFixed(0)} ms`;
const rows = variants.map((v) => {
  const xs = samples.get(v.id)!;
  return `| ${v.label} | ${ms(median(xs))} | ${ms(Math.min(...xs))} | ${ms(Math.max(...xs))} | ${ms(median(cpuSamples.get(v.id)!))} |`;
});

const help = med('help-build');
const evaluate = med('eval-build');
const verdict = (what: string, value: number, target: number) =>
  `${what} ${ms(value)} ${value <= target ? '≤' : '>'} ${target} ms: **${value <= target ? 'met' : 'not met'}**`;
const meanLoad = load1.reduce((a, b) => a + b, 0) / load1.length;
const cores = availableParallelism();
const conclusion =
  `${verdict('`reelab --help`', help, HELP_TARGET_MS)}; ${verdict('`reelab evaluate` fixed overhead', evaluate, EVALUATE_TARGET_MS)} ` +
  `(wall-time medians through the build, at a mean 1-minute load of ${meanLoad.toFixed(1)} on ${cores} cores` +
  `${meanLoad > cores + 0.5 ? `: wall times include waiting for a core; CPU time ${ms(med('help-build', cpuSamples))} and ${ms(med('eval-build', cpuSamples))}` : ''}). ` +
  `Against the baseline (${baselineCommit}) that is ${(med('help-base') / help).toFixed(1)}× faster for \`--help\` and ` +
  `${(med('eval-base') / evaluate).toFixed(1)}× for evaluate; through tsx (a build older than lib/) ` +
  `${ms(med('help-tsx'))} and ${ms(med('eval-tsx'))}. The WebAssembly binary cache saves ` +
  `${ms(med('svd-build-nocache') - med('svd-build'))} of an SVD evaluate.`;

const md = `# Start-up: results

Generated by \`npx tsx bench/startup.ts --runs ${runs}\` at commit ${commit}${dirty ? ' (with uncommitted changes in lib/ or bin/)' : ''}
on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.
Machine: ${cores} × ${cpu}; Node ${process.version}. Load average (1, 5, 15 min) before: ${loadBefore}; after:
${loadAfter}. ${loadNote(meanLoad)}.

**Conclusion.** ${conclusion}

What is timed: wall time of the whole process, from spawn to exit, median (min, max) of ${runs} interleaved runs
after one warm-up round, and its CPU time (all threads, user + system, 10 ms resolution): under load the wall
time includes waiting for a core, the CPU time much less so. "evaluate global-mean" is the fixed overhead of \`reelab evaluate\`:
\`${['node bin/reelab.js', ...EVALUATE, ...TAIL].join(' ')}\` — fitting and scoring 1000 ratings takes about a
millisecond, the rest is start-up. *build*: the compiled lib/ (esbuild, CommonJS + source maps, made by
\`scripts/setup.sh\` into \`.build/\`; here a private copy in \`${relative(root, buildDir)}\`), run by
\`bin/reelab.js\` while it matches lib/ exactly. *tsx*: this checkout with \`REELAB_BUILD=off\` (what runs while
lib/ has changed since the build). *baseline*: commit ${baselineCommit} (\`git archive\` into
\`${relative(root, baselineDir)}\`), started the way it starts itself.

| command | wall, median | min | max | CPU (user + sys), median |
|---|---:|---:|---:|---:|
${rows.join('\n')}

Where the time goes (build, \`node --cpu-prof\`): \`--help\` loads only commander and lib/cli/main.ts (each
command's implementation module is required when that command runs). evaluate loads the library parts it needs
(models registry, workflow, data, tracking client: ~700 modules, compiled from V8's code cache in
\`.build/.compile-cache\` after the first run). WebAssembly kernels are assembled from WAT text with wabt once and
their binaries kept in \`.cache/wasm/\` (the last two rows: without it, loading wabt and parsing the kernel text).
Worker threads no longer register tsx when their task modules are compiled JavaScript. The largest remaining
piece is the MLflow client's axios, loaded even with \`--no-track\` (~50 ms wall, ~70 ms CPU on its own, most of
it Node's fetch/undici, which axios touches at load time).
`;
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(outFile, md);
process.stdout.write(`${conclusion}\n${relative(root, outFile)} written\n`);
