// Runs one loader call for the bad-input corpus inside a worker thread (so a hang can be cut off by the test)
// and reports the error it raised as plain data.
import { fetchDataset } from '../../lib/data/fetch';
import { readGenome } from '../../lib/data/genome';
import { loadDataset } from '../../lib/data/load';
import { MOVIELENS } from '../../lib/data/movielens';
import { ConfigError, DataError } from '../../lib/util/errors';

export interface BadInputCall {
  action: 'load' | 'fetch' | 'genome';
  dataset: string;
  dataDir: string;
  archive?: string;
  sha256?: string;
}

export interface Outcome {
  ok: boolean;
  kind?: string;
  message?: string;
  file?: string;
  line?: number | null;
  field?: string;
}

export async function run(call: BadInputCall): Promise<Outcome> {
  try {
    if (call.action === 'load')
      loadDataset(call.dataset, { dataDir: call.dataDir, parts: ['tags', 'links', 'users'] });
    else if (call.action === 'genome') readGenome(call.dataDir, MOVIELENS['ml-25m']);
    else
      await fetchDataset(call.dataset, {
        dataDir: call.dataDir,
        archive: call.archive,
        spec: { archiveSha256: call.sha256 ?? null, archiveBytes: null, archiveMd5: null },
      });
    return { ok: true };
  } catch (err) {
    if (err instanceof DataError)
      return { ok: false, kind: 'DataError', message: err.message, file: err.file, line: err.line ?? null };
    if (err instanceof ConfigError)
      return { ok: false, kind: 'ConfigError', message: err.message, field: err.field };
    return {
      ok: false,
      kind: 'crash',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    };
  }
}
