import { existsSync } from 'node:fs';
import { pendingLinks } from './link';
import { isUnavailable, MlflowClient, MlflowVersionError } from './mlflow-client';
import {
  appendAck,
  defaultOutboxDir,
  describeError,
  isOwnOutboxFile,
  listOutboxFiles,
  lockOutboxFile,
  readOutboxFile,
  retireOutboxFile,
  writerAlive,
} from './outbox';
import { addStats, emptyStats, Replayer, type ReplayStats } from './replay';

export interface SyncOptions {
  /** Outbox folder (default: REELAB_OUTBOX_DIR or experiments/outbox). */
  dir?: string;
  /** Replay everything to this client's server instead of the server each file names. */
  to?: MlflowClient;
  /** Only replay files recorded for this server (what a new run does automatically). */
  onlyTrackingUri?: string;
  /** Client options for servers named by files (retries etc.). */
  clientFor?: (trackingUri: string) => MlflowClient;
  warn?: (message: string) => void;
}

export type FileSyncStatus = 'synced' | 'partial' | 'in-use' | 'unreachable' | 'skipped';

export interface FileSyncResult {
  file: string;
  trackingUri: string;
  status: FileSyncStatus;
  applied: number;
  rejected: Array<{ id: string; type: string; reason: string }>;
  error?: string;
}

export interface SyncResult {
  dir: string;
  files: FileSyncResult[];
  stats: ReplayStats;
  /** Operations still waiting (unreachable server, files in use). */
  pending: number;
}

/**
 * Replays the outbox: first this process's own pending records (when its server answers again), then every
 * file left by processes that have ended, each to the server it names (or to `options.to`). Idempotent:
 * replaying twice changes nothing on the server. Fully applied files move to synced/.
 */
export async function syncOutbox(options: SyncOptions = {}): Promise<SyncResult> {
  const dir = options.dir ?? defaultOutboxDir();
  const warn = options.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const stats = emptyStats();
  const files: FileSyncResult[] = [];
  let pending = 0;

  for (const link of pendingLinks()) {
    if (link.writer.dir !== dir) continue;
    const uri = link.writer.trackingUri;
    if (options.onlyTrackingUri && uri !== options.onlyTrackingUri) continue;
    const client = options.to ?? options.clientFor?.(uri) ?? new MlflowClient({ trackingUri: uri, warn });
    const before = { ...link.stats };
    const ok = await link.recover(client, { fresh: true });
    const delta = emptyStats();
    for (const k of Object.keys(delta) as Array<keyof ReplayStats>) delta[k] = link.stats[k] - before[k];
    addStats(stats, delta);
    pending += link.writer.pending.length;
    files.push({
      file: link.writer.path ?? '',
      trackingUri: uri,
      status: ok ? 'synced' : 'unreachable',
      applied: 0,
      rejected: [],
    });
  }

  const targets = new Map<string, { client: MlflowClient; replayer: Replayer; error: unknown }>();
  const target = async (uri: string) => {
    let entry = targets.get(uri);
    if (!entry) {
      const client = options.to ?? options.clientFor?.(uri) ?? new MlflowClient({ trackingUri: uri, warn });
      entry = { client, replayer: new Replayer(client), error: null };
      targets.set(uri, entry);
      try {
        await client.checkServer();
      } catch (err) {
        entry.error = err;
      }
    }
    return entry;
  };

  for (const file of listOutboxFiles(dir)) {
    if (isOwnOutboxFile(file)) continue;
    const result: FileSyncResult = { file, trackingUri: '', status: 'synced', applied: 0, rejected: [] };
    let unlock: (() => void) | null = null;
    try {
      const peek = readOutboxFile(file);
      result.trackingUri = peek.header.trackingUri;
      const waitingBefore = peek.ops.filter((op) => !peek.acks.has(op.id)).length;
      const skip = (status: FileSyncStatus) => {
        result.status = status;
        pending += waitingBefore;
      };
      if (options.onlyTrackingUri && peek.header.trackingUri !== options.onlyTrackingUri) {
        skip('skipped');
        files.push(result);
        continue;
      }
      unlock = writerAlive(peek.header) ? null : lockOutboxFile(file);
      if (!unlock) {
        skip('in-use');
      } else if (!existsSync(file)) {
        continue; // another process finished it meanwhile
      } else {
        // Read again under the lock: acknowledgements may have changed since we looked.
        const outbox = readOutboxFile(file);
        const waiting = outbox.ops.filter((op) => !outbox.acks.has(op.id));
        const entry = await target(options.to?.trackingUri ?? outbox.header.trackingUri);
        if (entry.error) {
          result.status = entry.error instanceof MlflowVersionError ? 'skipped' : 'unreachable';
          result.error = describeError(entry.error);
          pending += waiting.length;
        } else {
          let done = 0;
          for (const op of waiting) {
            try {
              await entry.replayer.apply(op, file);
              appendAck(file, op.id);
              result.applied++;
            } catch (err) {
              if (isUnavailable(err)) {
                result.status = 'unreachable';
                result.error = describeError(err);
                break;
              }
              const reason = describeError(err);
              appendAck(file, op.id, reason);
              result.rejected.push({ id: op.id, type: op.type, reason });
              warn(`outbox ${file}: MLflow rejected ${op.type} of run ${op.run.id ?? op.run.key}: ${reason}`);
            }
            done++;
          }
          pending += waiting.length - done;
          if (result.status === 'synced') {
            if (result.rejected.length > 0) result.status = 'partial';
            retireOutboxFile(
              file,
              result.rejected.some((r) => r.type === 'artifact'),
            );
          }
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      result.status = 'skipped';
      result.error = describeError(err);
    } finally {
      unlock?.();
    }
    files.push(result);
  }
  for (const { replayer } of targets.values()) addStats(stats, replayer.stats);
  return { dir, files, stats, pending };
}
