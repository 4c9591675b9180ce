import { loadServingModel, modelNeedsTracking } from '../serving/artifact';
import { type BatchSource, type BatchSummary, batchSource } from '../serving/batch';
import { writeBatchDuckDb, writeBatchParquet } from '../serving/batch-duckdb';
import { redact, writeBatchPostgres } from '../serving/batch-postgres';
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
  /** Targets by form: postgres(ql)://…, duckdb:<file> or <file>.duckdb / .db, parquet:<dir> (repeatable). */
  to?: string[];
  label?: string;
  replaceAll?: boolean;
  threads: string;
  json?: boolean;
}): Promise<void> {
  const k = whole(opts.k, '-k');
  const threads = whole(opts.threads, '--threads');
  const targets = batchTargets(opts);
  const tracking = modelNeedsTracking(opts.model) ? await connectTracking({ warn: note }) : null;
  const loaded = await loadServingModel(opts.model, { tracking });
  const createdAt = new Date();
  const written: BatchSummary[] = [];
  for (const [name, write] of targets) {
    note(`writing top-${k} for ${loaded.view.users.size} users to ${name}…`);
    written.push(
      await write(
        batchSource(loaded, {
          k,
          label: opts.label,
          threads,
          createdAt,
          replaceAll: opts.replaceAll === true,
        }),
      ),
    );
  }
  const first = written[0];
  const result = {
    model: loaded.model.name,
    modelName: first?.modelName ?? null,
    modelVersion: first?.modelVersion ?? null,
    runId: first?.runId ?? null,
    k,
    batches: written,
  };
  printResult(result, opts.json === true, (r: typeof result) =>
    r.batches
      .map(
        (b) =>
          `${b.rows} rows (${b.users} users × top ${b.k}, label ${b.label}` +
          `${b.modelName !== null ? `, ${b.modelName} version ${b.modelVersion}` : ''}) → ${b.target} in ${b.seconds.toFixed(2)} s`,
      )
      .join('\n'),
  );
}

type Target = [string, (s: BatchSource) => Promise<BatchSummary>];

/** The writers the options name (DuckDB's default file when none is given); a bad `--to` fails before any work. */
export function batchTargets(opts: {
  duckdb?: string;
  parquet?: string;
  postgres?: string;
  to?: string[];
}): Target[] {
  const targets: Target[] = [];
  const duckdb = (file: string): Target => ['duckdb', (s) => writeBatchDuckDb(file, s)];
  const parquet = (dir: string): Target => ['parquet', (s) => writeBatchParquet(dir, s)];
  const postgres = (url: string): Target => ['postgres', (s) => writeBatchPostgres(url, s)];
  for (const to of opts.to ?? []) {
    if (/^postgres(ql)?:\/\//.test(to)) targets.push(postgres(to));
    else if (to.startsWith('duckdb:')) targets.push(duckdb(nonEmpty(to.slice('duckdb:'.length), to)));
    else if (to.startsWith('parquet:')) targets.push(parquet(nonEmpty(to.slice('parquet:'.length), to)));
    else if (/\.(duckdb|db)$/i.test(to)) targets.push(duckdb(to));
    else
      throw new ConfigError(
        '--to',
        `"${redact(to)}" names no target; give postgres://…, postgresql://…, duckdb:<file> (or a *.duckdb file) or parquet:<dir>`,
      );
  }
  const given = targets.length > 0 || opts.parquet || opts.postgres;
  const file = opts.duckdb ?? (given ? undefined : DEFAULT_BATCH_DUCKDB);
  if (file) targets.push(duckdb(file));
  if (opts.parquet) targets.push(parquet(opts.parquet));
  if (opts.postgres) targets.push(postgres(opts.postgres));
  return targets;
}

function nonEmpty(path: string, given: string): string {
  if (!path) throw new ConfigError('--to', `"${given}" names no file or folder after the colon`);
  return path;
}

function whole(text: string, field: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(v >= 1))
    throw new ConfigError(field, `expected a positive whole number, got "${text}"`);
  return v;
}
