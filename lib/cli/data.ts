import { fetchDataset, fetchImdb } from '../data/fetch';
import { describeImdbMatch, IMDB_TERMS } from '../data/imdb';
import { describeDataset } from '../data/load';
import { SPLIT_GRAMMAR } from '../data/split';
import { ConfigError } from '../util/errors';
import { type Progress, progress } from '../util/progress';
import { printResult } from './output';

/** Download progress in kB through the one progress bar (started at the first chunk, with the size if known). */
function downloadProgress(label: string): {
  update: (received: number, total: number | null) => void;
  done: () => void;
} {
  let bar: Progress | null = null;
  // Whole kB as counts, so that small archives still show a percentage.
  const kb = (bytes: number) => Math.ceil(bytes / 1000);
  return {
    update(received, total) {
      bar ??= progress({ label, unit: 'kB', total: total && total > 0 ? kb(total) : 0 });
      bar.set(kb(received));
    },
    done() {
      bar?.done();
      bar = null;
    },
  };
}

interface FetchCliOptions {
  dataDir?: string;
  archive?: string;
  keepArchive?: boolean;
  url?: string;
  sha256?: string;
  json?: boolean;
}

export async function dataFetchCommand(dataset: string, opts: FetchCliOptions): Promise<void> {
  if (dataset === 'imdb') return imdbFetchCommand(opts);
  const bar = downloadProgress(`fetching ${dataset}`);
  const sha = opts.sha256;
  try {
    const result = await fetchDataset(dataset, {
      dataDir: opts.dataDir,
      archive: opts.archive,
      keepArchive: opts.keepArchive === true,
      onProgress: bar.update,
      spec: {
        ...(opts.url ? { url: opts.url } : {}),
        ...(sha
          ? {
              archiveSha256: sha === 'none' ? null : sha.toLowerCase(),
              archiveBytes: null,
              archiveMd5: null,
            }
          : {}),
      },
    });
    bar.done();
    printResult(result, opts.json === true, (r: typeof result) =>
      r.downloaded || r.files.length > 0
        ? `${r.dataset}: ${r.files.length} files in ${r.dir} (verified: ${r.verified.join(', ')})`
        : `${r.dataset}: already present in ${r.dir}, nothing downloaded`,
    );
  } finally {
    bar.done();
  }
}

/** `reelab data fetch imdb`: the five IMDb dumps into <data-dir>/imdb/, one progress bar per file. */
async function imdbFetchCommand(opts: FetchCliOptions): Promise<void> {
  if (opts.archive || opts.sha256)
    throw new ConfigError(
      'data fetch imdb',
      '--archive and --sha256 are for MovieLens archives (IMDb publishes no checksums)',
    );
  const bars = new Map<string, ReturnType<typeof downloadProgress>>();
  const barOf = (file: string) => {
    let bar = bars.get(file);
    if (!bar) {
      bar = downloadProgress(`fetching imdb ${file}`);
      bars.set(file, bar);
    }
    return bar;
  };
  try {
    const result = await fetchImdb({
      dataDir: opts.dataDir,
      baseUrl: opts.url,
      onProgress: (file, received, total) => barOf(file).update(received, total),
      onFileDone: (file) => bars.get(file)?.done(),
    });
    printResult(result, opts.json === true, (r: typeof result) =>
      [
        ...r.files.map((f) =>
          f.downloaded
            ? `${f.file}: ${f.bytes} bytes (verified: ${f.verified.join(', ')})`
            : `${f.file}: already present, nothing downloaded`,
        ),
        `into ${r.dir}; ${IMDB_TERMS}`,
      ].join('\n'),
    );
  } finally {
    for (const bar of bars.values()) bar.done();
  }
}

export async function dataDescribeCommand(opts: {
  dataset: string;
  dataDir?: string;
  seed: string;
  json?: boolean;
}): Promise<void> {
  const base = describeDataset(opts.dataset, { dataDir: opts.dataDir, seed: Number(opts.seed) });
  // The IMDb match, when <data-dir>/imdb/ exists (a progress bar on stderr while the dumps are scanned).
  const summary = { ...base, imdb: await describeImdbMatch(opts.dataset, { dataDir: opts.dataDir }) };
  printResult(summary, opts.json === true, (s: typeof summary) =>
    [
      `${s.dataset}: ${s.users} users, ${s.items} rated movies (${s.catalogueMovies} in the catalogue), ${s.ratings} ratings`,
      `tags: ${s.tags ?? 'none'}, user demographics: ${s.demographics ?? 'none'}`,
      `density ${(s.density * 100).toFixed(3)}%, ratings ${s.ratingMin}..${s.ratingMax} (mean ${s.ratingMean.toFixed(3)})`,
      `time span ${s.firstTimestamp ?? '?'} .. ${s.lastTimestamp ?? '?'}`,
      ...(s.imdb
        ? [
            `IMDb: ${s.imdb.matched}/${s.imdb.movies} movies matched (links ${s.imdb.byRoute.links}, title+year ${s.imdb.byRoute.titleYear}, ` +
              `title+year±1 ${s.imdb.byRoute.titleYearNear}, ambiguous resolved ${s.imdb.byRoute.ambiguousResolved}); ` +
              `per movie ${s.imdb.peoplePerMovie.directors} directors, ${s.imdb.peoplePerMovie.writers} writers, ${s.imdb.peoplePerMovie.actors} actors`,
          ]
        : []),
    ].join('\n'),
  );
}

export async function dataSplitsCommand(opts: { json?: boolean }): Promise<void> {
  printResult({ splits: SPLIT_GRAMMAR.split('\n') }, opts.json === true, () => SPLIT_GRAMMAR);
}
