import axios, { type AxiosInstance } from 'axios';
import { ReelabError } from '../util/errors';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface MlflowParam {
  key: string;
  value: string;
}
export interface MlflowTag {
  key: string;
  value: string;
}

export interface MlflowRun {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    status: RunStatus;
    start_time?: number;
    end_time?: number;
    artifact_uri?: string;
    lifecycle_stage?: string;
  };
  data: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] };
}

export interface MlflowClientOptions {
  /** e.g. http://127.0.0.1:5000 */
  trackingUri: string;
  timeoutMs?: number;
}

/** Typed calls to the MLflow tracking REST API (2.0 endpoints, as served by MLflow 3.x). */
export class MlflowClient {
  readonly trackingUri: string;
  protected readonly http: AxiosInstance;

  constructor(options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    this.http = axios.create({
      baseURL: `${this.trackingUri}/api/2.0/mlflow`,
      timeout: options.timeoutMs ?? 30_000,
    });
  }

  protected async call<T>(method: 'get' | 'post', path: string, body?: Record<string, unknown>): Promise<T> {
    try {
      const res =
        method === 'get'
          ? await this.http.get<T>(path, { params: body })
          : await this.http.post<T>(path, body ?? {});
      return res.data;
    } catch (err) {
      if (axios.isAxiosError(err)) {
        const data = err.response?.data as { error_code?: string; message?: string } | undefined;
        const detail = data?.message ? `${data.error_code ?? ''} ${data.message}`.trim() : err.message;
        throw new MlflowApiError(
          `${method.toUpperCase()} ${path}: ${detail}`,
          err.response?.status,
          data?.error_code,
        );
      }
      throw err;
    }
  }

  async getExperimentByName(name: string): Promise<{ experiment_id: string; name: string } | null> {
    try {
      const res = await this.call<{ experiment: { experiment_id: string; name: string } }>(
        'get',
        '/experiments/get-by-name',
        {
          experiment_name: name,
        },
      );
      return res.experiment;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const res = await this.call<{ experiment_id: string }>('post', '/experiments/create', { name });
    return res.experiment_id;
  }

  /** Id of the experiment called `name`, created when missing. */
  async getOrCreateExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) return found.experiment_id;
    try {
      return await this.createExperiment(name);
    } catch (err) {
      // Another process may have created it between our two calls.
      const again = await this.getExperimentByName(name);
      if (again) return again.experiment_id;
      throw err;
    }
  }

  async createRun(args: {
    experimentId: string;
    runName?: string;
    startTime?: number;
    tags?: MlflowTag[];
  }): Promise<MlflowRun> {
    const res = await this.call<{ run: MlflowRun }>('post', '/runs/create', {
      experiment_id: args.experimentId,
      run_name: args.runName,
      start_time: args.startTime ?? Date.now(),
      tags: args.tags ?? [],
    });
    return res.run;
  }

  async logBatch(
    runId: string,
    batch: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] },
  ): Promise<void> {
    await this.call('post', '/runs/log-batch', {
      run_id: runId,
      metrics: batch.metrics ?? [],
      params: batch.params ?? [],
      tags: batch.tags ?? [],
    });
  }

  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void> {
    await this.call('post', '/runs/update', { run_id: runId, status, end_time: endTime ?? Date.now() });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.call<{ run: MlflowRun }>('get', '/runs/get', { run_id: runId });
    return res.run;
  }
}

export class MlflowApiError extends ReelabError {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}
