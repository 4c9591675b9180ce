import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of lib/ point one way (README "How it fits together"): a folder imports only from folders at its own
 * rank or below. Checked on the sources' import specifiers, so a new upward import fails here with its file.
 */
const LIB = join(__dirname, '..', '..', 'lib');
const RANK: Record<string, number> = {
  util: 0,
  data: 1,
  compute: 2,
  features: 3,
  models: 4,
  eval: 5,
  config: 6,
  search: 6,
  tracking: 6,
  viz: 6,
  report: 7,
  workflows: 8,
  notebooks: 8,
  cli: 9,
  serving: 9,
};

/**
 * Upward imports that are deliberate, each with its reason. Everything else pointing up is a defect.
 * - lib/eval/metrics.ts holds the pure metric functions (it imports only lib/util): models use the one RMSE and
 *   NDCG there for their per-epoch numbers and the ensemble's validation slice, so no model has its own copy.
 * - The servable model directory (serving/artifact, model-view, movies) is written by the train workflow and read
 *   by serving; it is the serving format, kept beside the server.
 */
const ALLOWED = new Set([
  'models -> eval/metrics',
  'workflows/train.ts -> serving/artifact',
  'workflows/train.ts -> serving/model-view',
  'workflows/train.ts -> serving/movies',
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:from\s+|require\(|import\()'(\.{1,2}\/[^']+)'/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

describe('lib layers', () => {
  const files = sources(LIB);

  it('finds the library sources', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('no folder imports a higher one (except the listed, reasoned cases)', () => {
    const upward: string[] = [];
    for (const file of files) {
      const rel = relative(LIB, file);
      const from = rel.split('/')[0]!;
      if (!(from in RANK)) continue;
      for (const spec of imports(file)) {
        const target = normalize(join(dirname(rel), spec));
        const to = target.split('/')[0]!;
        if (!(to in RANK) || to === from || RANK[to]! <= RANK[from]!) continue;
        const edge = `${rel} -> ${target.replace(/\.ts$/, '')}`;
        const folderEdge = `${from} -> ${target.replace(/\.ts$/, '')}`;
        if (!ALLOWED.has(edge) && !ALLOWED.has(folderEdge)) upward.push(edge);
      }
    }
    expect(upward).toEqual([]);
  });

  it('lib/util imports nothing from the rest of lib', () => {
    const outside = files
      .filter((f) => relative(LIB, f).startsWith('util/'))
      .flatMap((f) =>
        imports(f).map((s) => [relative(LIB, f), normalize(join(dirname(relative(LIB, f)), s))]),
      )
      .filter(([, target]) => !target!.startsWith('util/'));
    expect(outside).toEqual([]);
  });

  it('no model reads files (saving and restoring a model directory is persist.ts, the one exception)', () => {
    const reading = files
      .filter((f) => relative(LIB, f).startsWith('models/') && !f.endsWith('persist.ts'))
      .filter((f) =>
        /from 'node:fs(\/promises)?'|require\('node:fs'\)|\bloadDataset\b|\bloadMovies\b/.test(
          readFileSync(f, 'utf8'),
        ),
      )
      .map((f) => relative(LIB, f));
    expect(reading).toEqual([]);
  });
});
