import { isUnavailable, type MlflowClient, MlflowVersionError } from './mlflow-client';
import { describeError, type OutboxWriter, outboxWriter } from './outbox';
import { addStats, emptyStats, Replayer, type ReplayStats } from './replay';
import { isMlflowUp } from './server';

/**
 * The connection state shared by all runs of this process that log to one server through one outbox.
 * Online, records go to the server; once a request fails for good (after retries), the link goes offline and
 * every record of every run goes to the outbox, in order, until `recover()` has replayed all of them — only
 * then does it switch back, so records never overtake each other.
 */
export class TrackingLink {
  private isOffline = false;
  private recovering: Promise<boolean> | null = null;
  private lastAttempt = 0;
  readonly stats: ReplayStats = emptyStats();

  constructor(
    readonly writer: OutboxWriter,
    private readonly warn: (message: string) => void,
  ) {}

  get offline(): boolean {
    return this.isOffline;
  }

  goOffline(reason: unknown): void {
    if (this.isOffline) return;
    this.isOffline = true;
    this.lastAttempt = Date.now();
    this.warn(
      `MLflow at ${this.writer.trackingUri} is unreachable (${describeError(reason)}); recording to the outbox ` +
        `in ${this.writer.dir} and carrying on. Records are replayed when the server is back or with ` +
        '`reelab mlflow sync`.',
    );
  }

  /** Time since the last recovery attempt (ms). */
  sinceLastAttempt(): number {
    return Date.now() - this.lastAttempt;
  }

  /**
   * When the server answers again, replays this process's pending records in order and goes back online.
   * Resolves true when online. Concurrent calls share one attempt (unless `fresh`).
   */
  recover(client: MlflowClient, options: { fresh?: boolean } = {}): Promise<boolean> {
    if (!this.isOffline && this.writer.pending.length === 0) return Promise.resolve(true);
    if (!this.recovering) {
      this.recovering = this.attempt(client).finally(() => {
        this.recovering = null;
      });
      return this.recovering;
    }
    // `fresh`: an attempt already under way may have looked before the server came back; try once more.
    if (options.fresh) return this.recovering.then((ok) => ok || this.recover(client));
    return this.recovering;
  }

  private async attempt(client: MlflowClient): Promise<boolean> {
    this.lastAttempt = Date.now();
    if (!(await isMlflowUp(client.trackingUri, 2000))) return false;
    const replayClient = client.withOptions({ retry: { retries: 2 } });
    try {
      await replayClient.checkServer();
    } catch (err) {
      if (err instanceof MlflowVersionError) this.warn(err.message);
      return false;
    }
    const replayer = new Replayer(replayClient, this.writer.resolved);
    const path = this.writer.path ?? '';
    try {
      while (this.writer.pending.length > 0) {
        const op = this.writer.pending[0]!;
        try {
          await replayer.apply(op, path);
          this.writer.ack(op);
        } catch (err) {
          if (isUnavailable(err)) return false;
          this.writer.ack(op, describeError(err));
          this.warn(
            `MLflow rejected a record from the outbox (${op.type}, run ${op.run.id ?? op.run.key}): ${describeError(err)}`,
          );
        }
      }
    } finally {
      addStats(this.stats, replayer.stats);
    }
    // Synchronously after the last acknowledgement: nothing can have been appended in between.
    this.isOffline = false;
    return true;
  }
}

const links = new Map<string, TrackingLink>();

/** The link of this process for (outbox folder, server). */
export function trackingLink(dir: string, client: MlflowClient): TrackingLink {
  const key = `${dir}\u0000${client.trackingUri}`;
  let link = links.get(key);
  if (!link) {
    link = new TrackingLink(outboxWriter(dir, client.trackingUri), client.warn);
    links.set(key, link);
  }
  return link;
}

/** Links of this process that still have records waiting (offline or not yet replayed). */
export function pendingLinks(): TrackingLink[] {
  return [...links.values()].filter((l) => l.offline || l.writer.pending.length > 0);
}
