import { fetchDataset } from '../data/fetch';
import { describeDataset } from '../data/load';
import { SPLIT_GRAMMAR } from '../data/split';
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

export async function dataDescribeCommand(opts: {
  dataset: string;
  dataDir?: string;
  seed: string;
  json?: boolean;
}): Promise<void> {
  const summary = describeDataset(opts.dataset, { dataDir: opts.dataDir, seed: Number(opts.seed) });
  printResult(summary, opts.json === true, (s: typeof summary) =>
    [
      `${s.dataset}: ${s.users} users, ${s.items} rated movies (${s.catalogueMovies} in the catalogue), ${s.ratings} ratings`,
      `tags: ${s.tags ?? 'none'}, user demographics: ${s.demographics ?? 'none'}`,
      `density ${(s.density * 100).toFixed(3)}%, ratings ${s.ratingMin}..${s.ratingMax} (mean ${s.ratingMean.toFixed(3)})`,
      `time span ${s.firstTimestamp ?? '?'} .. ${s.lastTimestamp ?? '?'}`,
    ].join('\n'),
  );
}

export async function dataSplitsCommand(opts: { json?: boolean }): Promise<void> {
  printResult({ splits: SPLIT_GRAMMAR.split('\n') }, opts.json === true, () => SPLIT_GRAMMAR);
}
