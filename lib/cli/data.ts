import type { Command } from 'commander';
import { describeDataset } from '../data/load';
import { action, printResult } from './output';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('MovieLens datasets: fetch and describe');
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
            `density ${(s.density * 100).toFixed(3)}%, ratings ${s.ratingMin}..${s.ratingMax} (mean ${s.ratingMean.toFixed(3)})`,
            `time span ${s.firstTimestamp ?? '?'} .. ${s.lastTimestamp ?? '?'}`,
          ].join('\n'),
        );
      }),
    );
}
