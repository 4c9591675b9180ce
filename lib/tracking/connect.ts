import { trackingLink } from './link';
import { MlflowClient, type MlflowClientOptions } from './mlflow-client';
import { defaultOutboxDir } from './outbox';
import { isMlflowUp } from './server';

/** Default local server address (`npm run mlflow` listens here). */
export const DEFAULT_TRACKING_URI = `http://127.0.0.1:${process.env.REELAB_MLFLOW_PORT ?? '5000'}`;

export interface ConnectOptions {
  /** Turn tracking off (`--no-track`). */
  noTrack?: boolean;
  /** Called with a one-line note when runs will not be tracked or go to the outbox. */
  warn?: (message: string) => void;
  /** Passed to the client (outbox folder, retries, timeouts). */
  client?: Omit<MlflowClientOptions, 'trackingUri' | 'warn'>;
}

/**
 * The MLflow client to log to:
 * - MLFLOW_TRACKING_URI when set. If that server does not answer, the client still comes back, with runs
 *   starting in the outbox (work continues; records are replayed when the server is back or on
 *   `reelab mlflow sync`).
 * - else the local server when one runs on the default port,
 * - else null (with a note on how to turn tracking on).
 */
export async function connectTracking(options: ConnectOptions = {}): Promise<MlflowClient | null> {
  if (options.noTrack) return null;
  const warn = options.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (uri) {
    if (!/^https?:\/\//.test(uri)) {
      warn(`MLFLOW_TRACKING_URI=${uri} is not an http(s) server URL; not tracking this run`);
      return null;
    }
    const client = new MlflowClient({ ...options.client, trackingUri: uri, warn });
    if (!(await isMlflowUp(uri))) {
      const outboxDir = client.options.outboxDir;
      if (outboxDir === false) {
        warn(`MLflow at ${uri} does not answer and the outbox is off; not tracking this run`);
        return null;
      }
      trackingLink(outboxDir ?? defaultOutboxDir(), client).goOffline('it did not answer /health');
    }
    return client;
  }
  if (await isMlflowUp(DEFAULT_TRACKING_URI, 700))
    return new MlflowClient({ ...options.client, trackingUri: DEFAULT_TRACKING_URI, warn });
  warn(
    'not tracking: set MLFLOW_TRACKING_URI or start a local server with `npm run mlflow` (--no-track hides this note)',
  );
  return null;
}
