/**
 * The one path from a training part to a recorded result: fit a registry model (per-epoch numbers named by what
 * they were measured on, optional early stopping), evaluate it on the held-out part, and record params, epoch
 * curves and final metrics to an open MLflow run. `evaluate`, `train`, model comparison, search trials, the
 * embeddings workflow and notebooks all go through `fitEvaluateRecord`, so every knob that reaches a model (seed,
 * threads, held-out part, epoch budget) is set here once and the record says exactly what ran.
 */
import type { Interactions } from '../data/interactions';
import type { SideInput } from '../data/side-information';
import type { EpochReport, FitOptions, Recommender } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import { withModelSeed } from '../models/seeds';
import { sideInputsOf } from '../models/side-inputs';
import { AbortedError, ConfigError } from '../util/errors';
import type { ParamValue } from '../util/params-text';
import { EarlyStopper } from './early-stopping';
import type { ItemGenreSets } from './metrics';
import { mlflowMetricKey, parseMetrics } from './names';
import { evaluateModel, type ProtocolResult } from './protocols';

/**
 * What the held-out part is. Numbers measured on a test fold are never called validation numbers: per-epoch
 * curves are `test_rmse` there, `validation_rmse` only on a validation part carved from the training part.
 */
export type HeldOutRole = 'validation' | 'test';

/** Where a fit's record goes: an open MLflow run (lib/tracking RunContext) or anything shaped like one. */
export interface RunRecorder {
  logParams(params: Record<string, ParamValue>): Promise<void>;
  logMetrics(values: Record<string, number>, step?: number): Promise<void>;
}

/** Side information loaded once per dataset (lib/data SideInformation): what a fit gets besides ratings. */
export interface SideInputs {
  fitInputs(needs: ReadonlySet<SideInput>): Partial<FitOptions>;
  itemGenres(): ItemGenreSets;
}

export interface EarlyStoppingSpec {
  /** Per-epoch metric watched, by its recorded name (e.g. "validation_rmse"). */
  metric: string;
  goal: 'min' | 'max';
  patience: number;
  minDelta: number;
  /** The model parameter holding the epoch count ('epochs' / 'iterations'). */
  epochParam: string;
}

/** One epoch of a fit as recorded: ms timestamp when it ended, values by MLflow metric name. */
export interface EpochRecord {
  epoch: number;
  timestamp: number;
  values: Record<string, number>;
}

export interface FitEvaluateRequest {
  /** Registry name (aliases accepted). */
  model: string;
  /** Hyperparameters as given (schema defaults and the model seed are applied here). */
  params?: Record<string, unknown>;
  /** The run's model seed: used unless `params.seed` is given (see `deriveRunSeeds`). */
  modelSeed: number;
  train: Interactions;
  /** Held-out ratings scored per epoch (where the model reports it) and after the fit; null: fit only. */
  heldOut: Interactions | null;
  heldOutRole: HeldOutRole;
  /** Side information for the models that need it, loaded once per dataset. */
  inputs: SideInputs | null;
  /** Metric names (lib/eval/names); ranking metrics are dropped for rating-only requests and vice versa. */
  metrics: readonly string[];
  /** Ranking protocols ("full", "sampled:<N>"); ignored when no ranking metric is asked for. */
  protocols: readonly string[];
  relevance: number | null;
  /** Seed of the evaluation's sampling (sampled negatives). */
  evaluationSeed: number;
  threads?: number;
  earlyStopping?: EarlyStoppingSpec | null;
  /** Open MLflow run to record to (params, epoch curves, final metrics); the caller ends it. */
  run?: RunRecorder | null;
  /** Extra params recorded beside the model's (dataset, split, seed, evaluation settings). */
  recordParams?: Record<string, ParamValue>;
  onEpoch?: (report: EpochReport, record: EpochRecord) => void;
}

export interface FitEvaluateResult {
  model: Recommender;
  /** The model's resolved hyperparameters (what ran, seed included). */
  params: Record<string, ParamValue>;
  epochs: EpochRecord[];
  /** With early stopping: the epoch kept (the model was refitted with that many) and where training stopped. */
  bestEpoch: number | null;
  stoppedEpoch: number | null;
  fitSeconds: number;
  evalSeconds: number;
  /** Final metrics by MLflow key: `rmse`, `full/ndcg_at_10`, `sampled-100/hr_at_10`, `full/users`, … */
  metrics: Record<string, number>;
  results: ProtocolResult[];
}

/** The MLflow key of a metric under a protocol: rating metrics plain, ranking ones `<protocol>/<name>`. */
export function metricKey(metric: string, protocol: string): string {
  return protocol === 'rating' ? metric : mlflowMetricKey(metric, protocol);
}

/** The one mapping from a model's epoch report to recorded metric names (see `HeldOutRole`). */
export function epochValues(report: EpochReport, role: HeldOutRole): Record<string, number> {
  const v: Record<string, number> = { epoch_seconds: report.seconds };
  if (report.trainRmse !== undefined) v.train_rmse = report.trainRmse;
  if (report.validationRmse !== undefined) v[`${role}_rmse`] = report.validationRmse;
  if (report.loss !== undefined) v.loss = report.loss;
  // Other numbers are named by the model, which knows what it measured them on (e.g. its own validation slice).
  for (const [k, x] of Object.entries(report.metrics ?? {}))
    v[k.replace(/@/g, '_at_').replace(/[^\w./ :-]/g, '_')] = x;
  return v;
}

/** Metric names a model of this task can report (rating metrics only for rating models). */
export function metricsForModel(model: string, metrics: readonly string[]): string[] {
  if (metrics.length === 0) return [];
  const task = modelEntry(model).task;
  return parseMetrics(metrics)
    .filter((s) => task === 'rating' || s.family !== 'rating')
    .map((s) => s.name);
}

/** Fits, evaluates and records one model (see the module comment). */
export async function fitEvaluateRecord(request: FitEvaluateRequest): Promise<FitEvaluateResult> {
  const { train, heldOut, heldOutRole, run } = request;
  const build = (params: Record<string, unknown>): Recommender => {
    return createModel(request.model, withModelSeed(request.model, params, request.modelSeed));
  };
  const sideInputs = (m: Recommender) => request.inputs?.fitInputs(sideInputsOf(m)) ?? {};
  const metricNames = metricsForModel(request.model, request.metrics);
  const specs = metricNames.length > 0 ? parseMetrics(metricNames) : [];
  const hasRanking = specs.some((s) => s.family !== 'rating');

  let model = build(request.params ?? {});
  if (run) await run.logParams({ ...model.params, ...request.recordParams });

  const es = request.earlyStopping ?? null;
  const stopper = es ? new EarlyStopper(es.goal, es.patience, es.minDelta) : null;
  const controller = new AbortController();
  const epochs: EpochRecord[] = [];
  const pending: Promise<void>[] = [];
  let missing: string[] | null = null;
  const started = performance.now();
  try {
    await model.fit(train, {
      ...sideInputs(model),
      threads: request.threads,
      validation: heldOut ?? undefined,
      signal: stopper ? controller.signal : undefined,
      onEpoch: (report) => {
        const record = {
          epoch: report.epoch,
          timestamp: Date.now(),
          values: epochValues(report, heldOutRole),
        };
        epochs.push(record);
        request.onEpoch?.(report, record);
        if (run) pending.push(run.logMetrics(record.values, report.epoch));
        if (!stopper || controller.signal.aborted) return;
        const v = record.values[es!.metric];
        if (v === undefined) {
          missing = Object.keys(record.values);
          controller.abort();
        } else if (stopper.observe(report.epoch, v)) controller.abort();
      },
    });
  } catch (err) {
    if (!(err instanceof AbortedError && controller.signal.aborted)) throw err;
  }
  if (missing !== null)
    throw new ConfigError(
      'earlyStopping.metric',
      `${request.model} does not report ${es!.metric} per epoch; it reports ${(missing as string[]).join(', ')} ` +
        '(add earlyStopping: false to this model or watch one of those)',
    );
  let bestEpoch: number | null = null;
  let stoppedEpoch: number | null = null;
  if (stopper && es) {
    stoppedEpoch = stopper.lastEpoch;
    const best = stopper.bestEpoch > 0 ? stopper.bestEpoch : stopper.lastEpoch;
    bestEpoch = best;
    if (!model.fitted || best < stopper.lastEpoch) {
      // Refit with the best epoch count: the model scored is exactly the one that epoch produced.
      model = build({ ...(request.params ?? {}), [es.epochParam]: best });
      await model.fit(train, { ...sideInputs(model), threads: request.threads });
    }
  }
  const fitSeconds = (performance.now() - started) / 1000;
  await Promise.all(pending);

  const metrics: Record<string, number> = {};
  let results: ProtocolResult[] = [];
  const evalStarted = performance.now();
  if (heldOut && metricNames.length > 0) {
    results = await evaluateModel(model, train, heldOut, {
      metrics: metricNames,
      protocols: hasRanking ? request.protocols : [],
      relevance: request.relevance,
      seed: request.evaluationSeed,
      threads: request.threads,
      itemGenres: specs.some((s) => s.kind === 'diversity') ? (request.inputs?.itemGenres() ?? null) : null,
    });
    for (const r of results) {
      for (const [name, v] of Object.entries(r.metrics)) metrics[metricKey(name, r.protocol)] = v;
      if (r.protocol !== 'rating') {
        metrics[metricKey('users', r.protocol)] = r.users;
        metrics[metricKey('users_without_relevant', r.protocol)] = r.usersWithoutRelevant;
      }
    }
  }
  const evalSeconds = (performance.now() - evalStarted) / 1000;
  if (run) await run.logMetrics({ ...metrics, fit_seconds: fitSeconds });
  return {
    model,
    params: { ...model.params },
    epochs,
    bestEpoch,
    stoppedEpoch,
    fitSeconds,
    evalSeconds,
    metrics,
    results,
  };
}
