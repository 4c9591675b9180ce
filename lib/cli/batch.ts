import type { Command } from 'commander';
import { loadServingModel } from '../serving/artifact';
import { type BatchSource, type BatchSummary, batchSource } from '../serving/batch';
import { writeBatchDuckDb, writeBatchParquet } from '../serving/batch-duckdb';
import { writeBatchPostgres } from '../serving/batch-postgres';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { action, note, printResult } from './output';

export const DEFAULT_BATCH_DUCKDB = 'batch-recommendations.duckdb';

export function registerBatchCommand(program: Command): void {
  program
    .command('batch')
    .description(
      'top-k recommendations for every user into DuckDB (default), Parquet and/or PostgreSQL, in one transaction',
    )
    .requiredOption('--model <dir|run-id>', 'model folder from `reelab train`, or an MLflow run id')
    .option('-k, --k <n>', 'recommendations per user', '10')
    .option(
      '--duckdb <file>',
      `DuckDB database file (default ${DEFAULT_BATCH_DUCKDB} when no other target is given)`,
    )
    .option('--parquet <dir>', 'folder for users/movies/batch_recommendations .parquet files')
    .option('--postgres <url>', 'PostgreSQL connection URL (postgres://user:pass@host:port/db)')
    .option('--label <name>', 'value of the model column (a new batch replaces rows with the same label)')
    .option('--threads <n>', 'worker threads for scoring factor models', '1')
    .option('--json', 'print one JSON object')
    .action(
      action(
        async (opts: {
          model: string;
          k: string;
          duckdb?: string;
          parquet?: string;
          postgres?: string;
          label?: string;
          threads: string;
          json?: boolean;
        }) => {
          const k = whole(opts.k, '-k');
          const threads = whole(opts.threads, '--threads');
          const tracking = /^(runs:\/)?[0-9a-f]{32}/i.test(opts.model)
            ? await connectTracking({ warn: note })
            : null;
          const loaded = await loadServingModel(opts.model, { tracking });
          const targets: Array<[string, (s: BatchSource) => Promise<BatchSummary>]> = [];
          const duckdb = opts.duckdb ?? (opts.parquet || opts.postgres ? undefined : DEFAULT_BATCH_DUCKDB);
          if (duckdb) targets.push(['duckdb', (s) => writeBatchDuckDb(duckdb, s)]);
          if (opts.parquet) targets.push(['parquet', (s) => writeBatchParquet(opts.parquet!, s)]);
          if (opts.postgres) targets.push(['postgres', (s) => writeBatchPostgres(opts.postgres!, s)]);
          const createdAt = new Date();
          const written: BatchSummary[] = [];
          for (const [name, write] of targets) {
            note(`writing top-${k} for ${loaded.view.users.size} users to ${name}…`);
            written.push(await write(batchSource(loaded, { k, label: opts.label, threads, createdAt })));
          }
          const result = { model: loaded.model.name, k, batches: written };
          printResult(result, opts.json === true, (r: typeof result) =>
            r.batches
              .map(
                (b) =>
                  `${b.rows} rows (${b.users} users × top ${b.k}, label ${b.label}) → ${b.target} in ${b.seconds.toFixed(2)} s`,
              )
              .join('\n'),
          );
        },
      ),
    );
}

function whole(text: string, field: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(v >= 1))
    throw new ConfigError(field, `expected a positive whole number, got "${text}"`);
  return v;
}
