import type { Command } from 'commander';
import { fetchDataset } from '../data/fetch';
import { describeDataset } from '../data/load';
import { SPLIT_GRAMMAR } from '../data/split';
import { action, printResult } from './output';

/** A one-line progress bar on stderr, redrawn at most ~10 times a second. */
function progressBar(label: string): {
  update: (received: number, total: number | null) => void;
  done: () => void;
} {
  let last = 0;
  let drawn = false;
  const mb = (b: number) => (b / 1048576).toFixed(1);
  const draw = (received: number, total: number | null) => {
    const width = 30;
    const text =
      total && total > 0
        ? `${'#'.repeat(Math.floor((received / total) * width)).padEnd(width, '.')} ${((received / total) * 100).toFixed(0).padStart(3)}% ${mb(received)}/${mb(total)} MB`
        : `${mb(received)} MB`;
    process.stderr.write(`\r${label} ${text}`);
    drawn = true;
  };
  return {
    update(received, total) {
      const now = Date.now();
      if (now - last < 100 && total !== received) return;
      last = now;
      draw(received, total);
    },
    done() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
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

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('MovieLens datasets: fetch and describe');
  data
    .command('fetch')
    .description('download a MovieLens release, verify its checksum and unpack it into the data dir')
    .argument('<dataset>', 'ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small or ml-latest')
    .option('--data-dir <dir>', 'folder to unpack into (default: $REELAB_DATA_DIR or ./data)')
    .option(
      '--archive <zip>',
      'use this already-downloaded archive instead of downloading (verified the same way)',
    )
    .option('--keep-archive', 'keep the verified zip as <data-dir>/<dataset>.zip')
    .option('--url <url>', 'download from this URL (a mirror) instead of GroupLens')
    .option(
      '--sha256 <hex>',
      "expected sha256 of the archive instead of the catalogue's ('none': size and CRCs only)",
    )
    .option('--json', 'print one JSON object')
    .action(
      action(async (dataset: string, opts: FetchCliOptions) => {
        const bar = progressBar(`fetching ${dataset}`);
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
      }),
    );
  data
    .command('describe')
    .description('counts and ranges of a dataset')
    .requiredOption('--dataset <name>', 'ml-100k, ml-latest-small, …, or synthetic:<ratings>')
    .option('--data-dir <dir>', 'folder holding <dataset>/ (default: $REELAB_DATA_DIR or ./data)')
    .option('--seed <n>', 'seed for synthetic data', '42')
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: { dataset: string; dataDir?: string; seed: string; json?: boolean }) => {
        const summary = describeDataset(opts.dataset, { dataDir: opts.dataDir, seed: Number(opts.seed) });
        printResult(summary, opts.json === true, (s: typeof summary) =>
          [
            `${s.dataset}: ${s.users} users, ${s.items} rated movies (${s.catalogueMovies} in the catalogue), ${s.ratings} ratings`,
            `tags: ${s.tags ?? 'none'}, user demographics: ${s.demographics ?? 'none'}`,
            `density ${(s.density * 100).toFixed(3)}%, ratings ${s.ratingMin}..${s.ratingMax} (mean ${s.ratingMean.toFixed(3)})`,
            `time span ${s.firstTimestamp ?? '?'} .. ${s.lastTimestamp ?? '?'}`,
          ].join('\n'),
        );
      }),
    );
  data
    .command('splits')
    .description('list the split names that --split accepts')
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: { json?: boolean }) => {
        printResult({ splits: SPLIT_GRAMMAR.split('\n') }, opts.json === true, () => SPLIT_GRAMMAR);
      }),
    );
}
