import { MlflowClient } from './mlflow-client';
import { isMlflowUp } from './server';

/** Default local server address (`npm run mlflow` listens here). */
export const DEFAULT_TRACKING_URI = `http://127.0.0.1:${process.env.REELAB_MLFLOW_PORT ?? '5000'}`;

export interface ConnectOptions {
  /** Turn tracking off (`--no-track`). */
  noTrack?: boolean;
  /** Called with a one-line note when runs will not be tracked. */
  warn?: (message: string) => void;
}

/**
 * The MLflow client to log to: MLFLOW_TRACKING_URI when set, else the local server when one is running on
 * the default port, else null (with a note on how to turn tracking on).
 */
export async function connectTracking(options: ConnectOptions = {}): Promise<MlflowClient | null> {
  if (options.noTrack) return null;
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (uri) {
    if (!/^https?:\/\//.test(uri)) {
      options.warn?.(`MLFLOW_TRACKING_URI=${uri} is not an http(s) server URL; not tracking this run`);
      return null;
    }
    if (!(await isMlflowUp(uri))) {
      options.warn?.(`MLflow at ${uri} does not answer; not tracking this run`);
      return null;
    }
    return new MlflowClient({ trackingUri: uri });
  }
  if (await isMlflowUp(DEFAULT_TRACKING_URI, 700))
    return new MlflowClient({ trackingUri: DEFAULT_TRACKING_URI });
  options.warn?.(
    'not tracking: set MLFLOW_TRACKING_URI or start a local server with `npm run mlflow` (--no-track hides this note)',
  );
  return null;
}
