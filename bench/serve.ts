/**
 * Load test of the HTTP API on ml-latest-small: the server runs as its own process (`reelab serve`), autocannon
 * runs here, both on loopback. Per model: GET /users/:id/recommendations?k=10 over all 610 users in turn, and
 * POST /recommendations (cold start from 10 ratings). Reports the median over repeats of requests/s and of the
 * p50/p99 latency, and writes bench/results/serve.md (with the cold-start quality table of
 * bench/serve-cold-start.ts when bench/out/serve-cold-start.txt exists).
 *   npx tsx bench/serve.ts [--data-dir DIR] [--duration 10] [--repeats 3] [--connections 10] [--models svd,ials,...]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { train } from '../lib/workflows/train';
import { loadNote } from './machine';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const root = resolve(__dirname, '..');
const dataDir = resolve(
  arg('data-dir', process.env.REELAB_DATA_DIR ?? join(root, '..', 'shared', 'datasets')),
);
const duration = Number(arg('duration', '10'));
const repeats = Number(arg('repeats', '3'));
const connections = Number(arg('connections', '10'));
const models = arg('models', 'baseline,svd,ials,item-knn').split(',');
const PARAMS: Record<string, Record<string, unknown>> = { svd: { seed: 1 }, ials: { seed: 1 } };

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server process CPU time (user + system) per completed request, ms: robust to other load on the machine. */
  cpuMs: number;
  load: number;
}

/** CPU seconds (user + system) used so far by process `pid` (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startServe(modelDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'reelab.js'), 'serve', '--model', modelDir, '--port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`reelab serve exited with ${code}: ${text}`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function load(options: autocannon.Options, pid: number): Promise<Measure> {
  const cpu0 = cpuSeconds(pid);
  const r = await autocannon({ connections, duration, ...options });
  const cpu = cpuSeconds(pid) - cpu0;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuMs: (cpu * 1000) / Math.max(1, r.requests.total),
    load: loadavg()[0]!,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const userIds = Array.from({ length: 610 }, (_, i) => i + 1);
  const profile = JSON.stringify({
    ratings: [1, 260, 296, 318, 356, 480, 527, 589, 593, 2571].map((movieId, i) => ({
      movieId,
      rating: i % 2 ? 5 : 3.5,
    })),
    k: 10,
  });
  const rows: string[] = [];
  for (const name of models) {
    const dir = join(root, 'bench', 'out', 'serve-models', name);
    if (!existsSync(join(dir, 'model.json'))) {
      mkdirSync(dir, { recursive: true });
      await train({
        dataset: 'ml-latest-small',
        model: name,
        params: PARAMS[name] ?? {},
        out: dir,
        overwrite: true,
        dataDir,
      });
    }
    const { child, url } = await startServe(dir);
    try {
      let next = 0;
      const get = {
        url,
        requests: [
          {
            method: 'GET' as const,
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              path: `/users/${userIds[next++ % userIds.length]}/recommendations?k=10`,
            }),
          },
        ],
      };
      const post = {
        url: `${url}/recommendations`,
        method: 'POST' as const,
        headers: { 'content-type': 'application/json' },
        body: profile,
      };
      await load({ ...get, duration: 2 }, child.pid!); // warm-up
      for (const [endpoint, opts] of [
        ['GET /users/:id/recommendations?k=10', get],
        ['POST /recommendations (10 ratings)', post],
      ] as const) {
        const runs: Measure[] = [];
        for (let r = 0; r < repeats; r++) runs.push(await load(opts, child.pid!));
        const bad = runs.reduce((s, m) => s + m.non2xx + m.errors, 0);
        const med = (f: (m: Measure) => number, digits: number) => median(runs.map(f)).toFixed(digits);
        const line =
          `| ${name} | ${endpoint} | ${med((m) => m.rps, 0)} | ${med((m) => m.p50, 1)} | ${med((m) => m.p99, 1)} | ` +
          `${med((m) => m.cpuMs, 2)} | ${med((m) => m.load, 1)} | ${bad} |`;
        console.log(line);
        rows.push(line);
      }
    } finally {
      await stop(child);
    }
  }
  const coldStart = join(root, 'bench', 'out', 'serve-cold-start.txt');
  const quality = existsSync(coldStart)
    ? readFileSync(coldStart, 'utf8').slice(readFileSync(coldStart, 'utf8').indexOf('| model |'))
    : '(run `npx tsx bench/serve-cold-start.ts > bench/out/serve-cold-start.txt` first)\n';
  const md = `# Serving: HTTP API load test and cold-start quality

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}.
Date: ${new Date().toISOString().slice(0, 10)}. Load average at the end of the run: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (1/5/15 min): ${loadNote(loadavg()[0]!)}.

## Load test (autocannon, loopback)

\`npx tsx bench/serve.ts --duration ${duration} --repeats ${repeats} --connections ${connections} --models ${models.join(',')}\`

The server is a separate process (\`reelab serve --model bench/out/serve-models/<model>\`, request logging off) and
autocannon runs in the bench process, ${connections} connections, ${duration} s per run after a 2 s warm-up; medians of
${repeats} runs. Models were fitted on all of ml-latest-small (610 users, 9724 movies) with default parameters. The GET
requests cycle through all 610 users; the POST sends the same 10-rating profile every time (fold-in + top-10 + "because"
neighbours). "server CPU ms/request" is the server process's user + system CPU time divided by the requests it
answered: unlike requests/s it hardly depends on what else runs, and 1000 / it is the throughput one free core would give.

| model | endpoint | requests/s | p50 ms | p99 ms | server CPU ms/request | load avg (1 min) | non-2xx + errors |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

## Cold start: fold-in quality (\`bench/serve-cold-start.ts\`)

100 users (seeded) held out of training; each one with ≥ 20 ratings gives a 10-rating profile and keeps the rest as
its test part. RMSE on the test part (rating models; predictions clipped to 0.5–5) and recall@10 of the test movies
rated ≥ 4 (profile movies left out). The serving defaults (explicit: reg 5, regBias 5; implicit: the model's own λ and
α) come from this table.

${quality}`;
  writeFileSync(join(root, 'bench', 'results', 'serve.md'), md);
  console.log('wrote bench/results/serve.md');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
