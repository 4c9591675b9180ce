/**
 * Load benchmark: an ml-32m-format ratings.csv (synthetic, 32M ratings by default) into `Interactions`,
 * next to pandas read_csv(engine='pyarrow') and DuckDB's read_csv. Every measurement runs in a fresh child
 * process, so peak RSS (getrusage maxrss) belongs to that one load; medians of `--repeats` runs.
 *
 *   npx tsx bench/load.ts [--ratings 32000000] [--repeats 3] [--file <ratings.csv>] [--out bench/results/load.md]
 *
 * The CSV is generated once into bench/out/synth/ml-32m/ (git-ignored) by the synthetic generator.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FEATURES_MARKER, formatMarkdown } from './load-common';
import { loadNote } from './machine';

interface Measure {
  seconds: number;
  maxRssBytes: number;
  rssAfterBytes: number;
  rssBeforeBytes: number;
  rows: number;
  /** reelab only: RSS once the derived users column has been read too (after a full GC). */
  rssWithUsersBytes?: number;
}

const root = resolve(__dirname, '..');

const NOTES = [
  '## Reading the numbers',
  '',
  '- reelab loads with a single-thread byte parser: the common row shape is parsed without a per-line',
  '  `indexOf` (anything unusual falls back to the checking path, which names file and line), id maps come',
  '  from a presence table instead of a sort, and the duplicate (user, movie) check walks the CSR, which is',
  '  free when the file is sorted by user and movie as GroupLens ships it.',
  '- Held once loaded: item (int32), rating (float32) and timestamp (int32) columns, 12 bytes per rating, plus',
  '  the by-user row pointers, the id maps and allocator slack (measured after a full GC, so the read buffer is',
  '  gone). GroupLens ships ratings.csv sorted by user, so the user of each row is implied by the CSR row',
  '  pointers: `Interactions` keeps those and derives the int32 `users` column on first read (+4 B/rating, the',
  '  second reelab row); files not grouped by user keep the column from the start. Peak RSS includes the Node',
  '  runtime (~100 MB).',
  "- DuckDB's `read_csv` parses with both cores, but the data then lives inside DuckDB; copying it back into",
  '  typed arrays through `@duckdb/node-api` costs more than parsing the file ourselves, and doubles memory.',
  '  So ratings are parsed by hand, and DuckDB gets the loaded arrays instead (FeatureDb copies each',
  '  2048-row vector with one memcpy: 0.66 s for 4M rows × 4 columns against 3.7 s through the row-by-row',
  '  appender, measured under load 13) for SQL over ratings, movies, tags and features.',
  '- Compare the load averages above before reading absolute times: the machine may be shared.',
  '- Splitting the parse across 2 worker threads was not needed for the target: it would also need either a',
  '  line-count pre-pass or a concatenation copy (2× peak memory).',
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function rssNow(): number {
  return process.memoryUsage().rss;
}

/** One measurement, run inside the child process. */
async function child(method: string, file: string): Promise<Measure> {
  // Import everything first so module loading is not counted in the load's time or memory.
  const { readRatingsFile } = await import('../lib/data/parse-ratings');
  const { interactionsFromRaw } = await import('../lib/data/build');
  const { MOVIELENS } = await import('../lib/data/movielens');
  const duck = await import('@duckdb/node-api');
  const before = rssNow();
  const t = performance.now();
  let rows = 0;
  if (method === 'reelab') {
    const inter = interactionsFromRaw(readRatingsFile(file, MOVIELENS['ml-32m'].ratingsFormat));
    rows = inter.size;
    (globalThis as { keep?: unknown }).keep = inter;
  } else if (method === 'duckdb-table' || method === 'duckdb-arrays') {
    const instance = await duck.DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await conn.run(
      `CREATE TABLE r AS SELECT * FROM read_csv('${file.replace(/'/g, "''")}', header = true,
        columns = {'userId': 'INTEGER', 'movieId': 'INTEGER', 'rating': 'FLOAT', 'timestamp': 'INTEGER'})`,
    );
    if (method === 'duckdb-arrays') {
      // Pull the four columns back into typed arrays, chunk by chunk, as Interactions would need them.
      const count = Number((await conn.runAndReadAll('SELECT count(*) FROM r')).getRows()[0]![0]);
      const cols = [
        new Int32Array(count),
        new Int32Array(count),
        new Float32Array(count),
        new Int32Array(count),
      ];
      const result = await conn.run('SELECT * FROM r');
      let at = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (let c = 0; c < 4; c++) {
          const v = chunk.getColumnVector(c);
          const out = cols[c]!;
          for (let i = 0; i < chunk.rowCount; i++) out[at + i] = v.getItem(i) as number;
        }
        at += chunk.rowCount;
      }
      rows = at;
      (globalThis as { keep?: unknown }).keep = cols;
    } else {
      rows = Number((await conn.runAndReadAll('SELECT count(*) FROM r')).getRows()[0]![0]);
      (globalThis as { keep?: unknown }).keep = conn;
    }
  }
  const seconds = (performance.now() - t) / 1000;
  // "Once loaded" is the steady state: collect the parse's garbage (the read buffer) before measuring.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
    gc();
  }
  const measured: Measure = {
    seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rssAfterBytes: rssNow(),
    rssBeforeBytes: before,
    rows,
  };
  if (method === 'reelab') {
    // The users column of user-sorted files is derived from the CSR row pointers on first read: measure that too.
    const inter = (globalThis as { keep?: { users: Int32Array } }).keep!;
    if (inter.users.length !== rows) throw new Error('users column has the wrong length');
    gc?.();
    measured.rssWithUsersBytes = rssNow();
  }
  return measured;
}

function runChild(method: string, file: string): Measure {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', __filename, '--child', method, file],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

function runPandas(file: string, repeats: number): Measure[] {
  const py = join(root, '.venv', 'bin', 'python');
  const out = execFileSync(py, [join(root, 'bench', 'py', 'load.py'), file, String(repeats)], {
    encoding: 'utf8',
  });
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Measure);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const m = await child(process.argv[3]!, process.argv[4]!);
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const ratings = Number(arg('ratings', '32000000'));
  const repeats = Number(arg('repeats', '3'));
  const outFile = arg('out', join(root, 'bench', 'results', 'load.md'));
  let file = arg('file', '');
  if (!file) {
    const dir = join(root, 'bench', 'out', 'synth', ratings === 32e6 ? 'ml-32m' : `ml-32m-${ratings}`);
    file = join(dir, 'ratings.csv');
    if (!existsSync(file)) {
      const { writeSyntheticMovieLens } = await import('../lib/data/synthetic-files');
      const t = performance.now();
      writeSyntheticMovieLens(dir, { ratings, seed: 42 });
      process.stderr.write(`generated ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    }
  }
  const load0 = loadavg();
  const results: Record<string, Measure[]> = {};
  for (const method of ['reelab', 'duckdb-table', 'duckdb-arrays']) {
    results[method] = [];
    for (let r = 0; r < repeats; r++) {
      const m = runChild(method, file);
      process.stderr.write(
        `${method} #${r + 1}: ${m.seconds.toFixed(2)} s, peak ${(m.maxRssBytes / 2 ** 20).toFixed(0)} MB\n`,
      );
      results[method]!.push(m);
    }
  }
  results.pandas = runPandas(file, repeats);
  for (const m of results.pandas)
    process.stderr.write(
      `pandas: ${m.seconds.toFixed(2)} s, peak ${(m.maxRssBytes / 2 ** 20).toFixed(0)} MB\n`,
    );
  const load1 = loadavg();

  const rows = results.reelab![0]!.rows;
  const med = (k: string, f: (m: Measure) => number) => median(results[k]!.map(f));
  const pandasSeconds = med('pandas', (m) => m.seconds);
  const lines = [
    '# Load benchmark: 32M-rating ml-32m-format CSV → typed arrays',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}`,
    `- Load average (1/5/15 min) before: ${load0.map((x) => x.toFixed(2)).join(' / ')}, after: ${load1.map((x) => x.toFixed(2)).join(' / ')} (${loadNote(load1[0]!)})`,
    `- File: synthetic (seed 42), ${rows.toLocaleString('en-US')} ratings, ml-32m format (header, CRLF), ${file.replace(`${root}/`, '')}`,
    `- Command: \`npx tsx bench/load.ts --ratings ${ratings} --repeats ${repeats}\` (each run in a fresh child process; peer: \`.venv/bin/python bench/py/load.py <file> ${repeats}\`)`,
    `- Median of ${repeats}; "RSS/rating once loaded" = (RSS after the load and a full GC − RSS before the load) / ratings; peak = getrusage maxrss of the whole process / ratings.`,
    '',
    '| method | seconds (median) | ratio vs pandas | RSS/rating once loaded (B) | peak RSS (MB) | peak RSS/rating (B) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const label: Record<string, string> = {
    reelab: 'reelab `readRatingsFile` + `interactionsFromRaw` (byte parser, id maps, duplicate check, CSR)',
    'duckdb-table': 'DuckDB `read_csv` into a table (data stays in DuckDB)',
    'duckdb-arrays': 'DuckDB `read_csv` + pulling the 4 columns into typed arrays',
    pandas: 'pandas `read_csv(engine="pyarrow")`, int32/float32 dtypes',
  };
  for (const k of ['reelab', 'duckdb-table', 'duckdb-arrays', 'pandas']) {
    const s = med(k, (m) => m.seconds);
    const held = med(k, (m) => (m.rssAfterBytes - m.rssBeforeBytes) / rows);
    const peak = med(k, (m) => m.maxRssBytes);
    lines.push(
      `| ${label[k]} | ${s.toFixed(2)} | ${(s / pandasSeconds).toFixed(2)} | ${held.toFixed(2)} | ${(peak / 2 ** 20).toFixed(0)} | ${(peak / rows).toFixed(1)} |`,
    );
    if (k === 'reelab') {
      const withUsers = med(k, (m) => ((m.rssWithUsersBytes ?? Number.NaN) - m.rssBeforeBytes) / rows);
      lines.push(
        `| … the same, after the derived \`users\` column is first read (materialised) | – | – | ${withUsers.toFixed(2)} | – | – |`,
      );
    }
  }
  lines.push('', 'Raw runs (seconds):');
  for (const [k, ms] of Object.entries(results))
    lines.push(`- ${k}: ${ms.map((m) => m.seconds.toFixed(2)).join(', ')}`);
  lines.push('', ...NOTES);
  mkdirSync(dirname(outFile), { recursive: true });
  // Keep the feature-table section that bench/load-features.ts maintains below the marker.
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  const at = previous.indexOf(FEATURES_MARKER);
  const tail = at >= 0 ? previous.slice(at) : `${FEATURES_MARKER}\n`;
  writeFileSync(outFile, `${lines.join('\n')}\n\n${tail}`);
  formatMarkdown(outFile);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
