/**
 * Trials in MLflow: finding finished ones by hash (to reuse them), and cleaning up after interrupted searches.
 * A trial run left RUNNING by a process that no longer exists (SIGKILL), or ended KILLED/FAILED, is "stale":
 * it is tagged `reelab.superseded`, set to KILLED and deleted, so exactly one FINISHED run per trial hash stays
 * active. Duplicate FINISHED runs of one hash (two searches racing) keep the earliest.
 */
import { hostname } from 'node:os';
import type { MlflowClient, MlflowRun } from '../tracking/mlflow-client';

export const TAG = {
  kind: 'reelab.kind',
  hash: 'reelab.trial.hash',
  role: 'reelab.trial.role',
  label: 'reelab.trial.label',
  entry: 'reelab.trial.entry',
  config: 'reelab.trial.config',
  split: 'reelab.trial.split',
  validation: 'reelab.trial.validation',
  pid: 'reelab.pid',
  host: 'reelab.host',
  configSha: 'reelab.config.sha256',
  configPath: 'reelab.config.path',
  configName: 'reelab.config.name',
  superseded: 'reelab.superseded',
  supersededReason: 'reelab.superseded.reason',
} as const;

function tagsOf(run: MlflowRun): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

/** True when the process that owns a RUNNING run is gone (same host, pid not alive). Other hosts: unknown. */
export function ownerGone(tags: Record<string, string>): boolean | null {
  const host = tags[TAG.host];
  const pid = Number(tags[TAG.pid]);
  if (!host || !Number.isInteger(pid) || pid <= 0) return true;
  if (host !== hostname()) return null;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface CleanupReport {
  /** Runs marked superseded and deleted. */
  superseded: number;
  /** Trials still RUNNING in a live process (another search): they are left alone and run again here. */
  busyElsewhere: number;
}

export class TrialStore {
  private readonly byHash = new Map<string, MlflowRun[]>();

  private constructor(
    readonly client: MlflowClient,
    readonly experimentId: string,
  ) {}

  /** Loads every active trial run of the experiment (one paged search). */
  static async open(client: MlflowClient, experimentId: string): Promise<TrialStore> {
    const store = new TrialStore(client, experimentId);
    const runs = await client.searchAllRuns({
      experimentIds: [experimentId],
      filter: `tags.\`${TAG.kind}\` = 'trial'`,
      orderBy: ['attributes.start_time ASC'],
      maxResults: 1000,
    });
    for (const run of runs) {
      const hash = tagsOf(run)[TAG.hash];
      if (!hash) continue;
      const list = store.byHash.get(hash) ?? [];
      list.push(run);
      store.byHash.set(hash, list);
    }
    for (const list of store.byHash.values()) list.sort(byStart);
    return store;
  }

  /** The FINISHED run of a trial hash (after `cleanup`, at most one is active), or null. */
  finished(hash: string): MlflowRun | null {
    return (this.byHash.get(hash) ?? []).find((r) => r.info.status === 'FINISHED') ?? null;
  }

  /** Supersedes stale and duplicate runs of the given hashes (see the module comment). */
  async cleanup(hashes: Iterable<string>): Promise<CleanupReport> {
    const report: CleanupReport = { superseded: 0, busyElsewhere: 0 };
    for (const hash of hashes) {
      const runs = this.byHash.get(hash);
      if (!runs) continue;
      const keep = runs.find((r) => r.info.status === 'FINISHED') ?? null;
      const remaining: MlflowRun[] = [];
      for (const run of runs) {
        if (run === keep) {
          remaining.push(run);
          continue;
        }
        let reason: string;
        if (run.info.status === 'FINISHED') reason = `duplicate of ${keep!.info.run_id}`;
        else if (run.info.status === 'RUNNING' || run.info.status === 'SCHEDULED') {
          const gone = ownerGone(tagsOf(run));
          if (gone !== true && !keep) {
            report.busyElsewhere++;
            remaining.push(run);
            continue;
          }
          reason = gone
            ? 'left RUNNING by a process that no longer exists'
            : `superseded by ${keep!.info.run_id}`;
        } else reason = `ended ${run.info.status}`;
        await this.supersede(run, reason);
        report.superseded++;
      }
      this.byHash.set(hash, remaining);
    }
    return report;
  }

  /** Supersedes every run of the given hashes (a fresh search recomputes them all); returns how many. */
  async supersedeAll(hashes: Iterable<string>, reason: string): Promise<number> {
    let n = 0;
    for (const hash of hashes) {
      for (const run of this.byHash.get(hash) ?? []) {
        await this.supersede(run, reason);
        n++;
      }
      this.byHash.delete(hash);
    }
    return n;
  }

  private async supersede(run: MlflowRun, reason: string): Promise<void> {
    const id = run.info.run_id;
    await this.client.logBatch(id, {
      tags: [
        { key: TAG.superseded, value: 'true' },
        { key: TAG.supersededReason, value: reason },
      ],
    });
    if (run.info.status === 'RUNNING' || run.info.status === 'SCHEDULED')
      await this.client.updateRun(id, 'KILLED');
    await this.client.deleteRun(id);
  }

  /** Marks parent (search) runs of this config left RUNNING by dead processes KILLED (they are kept, not deleted). */
  async closeStaleParents(configSha256: string): Promise<number> {
    const runs = await this.client.searchAllRuns({
      experimentIds: [this.experimentId],
      filter: `tags.\`${TAG.kind}\` = 'search' and tags.\`${TAG.configSha}\` = '${configSha256}' and attributes.status = 'RUNNING'`,
      maxResults: 1000,
    });
    let n = 0;
    for (const run of runs) {
      if (ownerGone(tagsOf(run)) !== true) continue;
      await this.client.logBatch(run.info.run_id, {
        tags: [{ key: 'reelab.end_reason', value: 'left RUNNING by a process that no longer exists' }],
      });
      await this.client.updateRun(run.info.run_id, 'KILLED');
      n++;
    }
    return n;
  }
}

function byStart(a: MlflowRun, b: MlflowRun): number {
  return (a.info.start_time ?? 0) - (b.info.start_time ?? 0) || a.info.run_id.localeCompare(b.info.run_id);
}
