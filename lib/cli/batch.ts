import { loadServingModel, modelNeedsTracking } from '../serving/artifact';
import { type BatchSource, type BatchSummary, batchSource } from '../serving/batch';
import { writeBatchDuckDb, writeBatchParquet } from '../serving/batch-duckdb';
import { writeBatchPostgres } from '../serving/batch-postgres';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { DEFAULT_BATCH_DUCKDB } from './main';
import { note, printResult } from './output';

export async function batchCommand(opts: {
  model: string;
  k: string;
  duckdb?: string;
  parquet?: string;
  postgres?: string;
  label?: string;
  threads: string;
  json?: boolean;
}): Promise<void> {
  const k = whole(opts.k, '-k');
  const threads = whole(opts.threads, '--threads');
  const tracking = modelNeedsTracking(opts.model) ? await connectTracking({ warn: note }) : null;
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
}

function whole(text: string, field: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(v >= 1))
    throw new ConfigError(field, `expected a positive whole number, got "${text}"`);
  return v;
}
