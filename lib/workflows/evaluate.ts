import { loadRatings } from '../data/load';
import { makeSplit } from '../data/split';
import { evaluateRatings } from '../eval/rating';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import type { MlflowClient } from '../tracking/mlflow-client';
import { type RunSource, startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';

export interface EvaluateRequest {
  dataset: string;
  split: string;
  model: string;
  params?: Record<string, unknown>;
  /** Metric names (contract names, e.g. rmse, mae); default: rmse and mae. */
  metrics?: string[];
  seed?: number;
  dataDir?: string;
  threads?: number;
  /** Log to this MLflow server (null or omitted: no tracking). */
  tracking?: MlflowClient | null;
  experiment?: string;
  source?: RunSource;
  sourceName?: string;
  onEpoch?: (report: EpochReport) => void;
}

export interface EvaluateResult {
  model: string;
  dataset: string;
  split: string;
  params: Record<string, number | string | boolean>;
  metrics: Record<string, number>;
  fitSeconds: number;
  trainRatings: number;
  testRatings: number;
  /** MLflow run id when the run was tracked. */
  runId: string | null;
  /** Per-epoch reports of the fit. */
  epochs: EpochReport[];
}

const SUPPORTED_METRICS = ['rmse', 'mae'];

/** Loads data, splits, fits a model, evaluates it and (when tracking) logs the run to MLflow. */
export async function evaluate(request: EvaluateRequest): Promise<EvaluateResult> {
  const metrics = request.metrics ?? ['rmse', 'mae'];
  for (const m of metrics) {
    if (!SUPPORTED_METRICS.includes(m))
      throw new ConfigError('metrics', `unknown metric "${m}"; available: ${SUPPORTED_METRICS.join(', ')}`);
  }
  const entry = modelEntry(request.model);
  const model = createModel(request.model, request.params ?? {});
  const seed = request.seed ?? 42;
  const all = loadRatings(request.dataset, { dataDir: request.dataDir, seed });
  const split = makeSplit(all, request.split, request.dataset, { seed, dataDir: request.dataDir });

  const run = request.tracking
    ? await startRun(request.tracking, {
        experiment: request.experiment ?? `reelab-${request.dataset}`,
        runName: `${request.model} ${request.dataset} ${request.split}`,
        source: request.source ?? 'script',
        sourceName: request.sourceName,
        tags: {
          'reelab.dataset': request.dataset,
          'reelab.split': request.split,
          'reelab.model': request.model,
          'reelab.seed': String(seed),
          'reelab.task': entry.task,
        },
      })
    : null;
  try {
    if (run) await run.logParams({ ...model.params, dataset: request.dataset, split: request.split, seed });
    const epochs: EpochReport[] = [];
    const pending: Promise<void>[] = [];
    const started = performance.now();
    await model.fit(split.train, {
      threads: request.threads,
      validation: split.test,
      onEpoch: (report) => {
        epochs.push(report);
        request.onEpoch?.(report);
        if (run) {
          const m: Record<string, number> = { epoch_seconds: report.seconds };
          if (report.trainRmse !== undefined) m.train_rmse = report.trainRmse;
          if (report.validationRmse !== undefined) m.validation_rmse = report.validationRmse;
          if (report.loss !== undefined) m.loss = report.loss;
          pending.push(run.logMetrics(m, report.epoch));
        }
      },
    });
    const fitSeconds = (performance.now() - started) / 1000;
    await Promise.all(pending);
    const scores = evaluateRatings(model, split.test);
    const values: Record<string, number> = {};
    for (const m of metrics) values[m] = m === 'rmse' ? scores.rmse : scores.mae;
    if (run) {
      await run.logMetrics({ ...values, fit_seconds: fitSeconds });
      await run.end('FINISHED');
    }
    return {
      model: request.model,
      dataset: request.dataset,
      split: request.split,
      params: { ...model.params },
      metrics: values,
      fitSeconds,
      trainRatings: split.train.size,
      testRatings: split.test.size,
      runId: run?.runId ?? null,
      epochs,
    };
  } catch (err) {
    if (run) {
      await run
        .setTags({ 'reelab.error': String(err instanceof Error ? err.message : err).slice(0, 5000) })
        .catch(() => {});
      await run.end('FAILED').catch(() => {});
    }
    throw err;
  }
}
