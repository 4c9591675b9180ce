import { defaultThreads } from '../compute/pool';
import { loadRatings } from '../data/load';
import { makeSplit } from '../data/split';
import { mlflowMetricKey, parseMetrics } from '../eval/names';
import {
  DEFAULT_RELEVANCE,
  evaluateModel,
  type ProtocolResult,
  parseProtocol,
  protocolLabel,
} from '../eval/protocols';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import type { MlflowClient } from '../tracking/mlflow-client';
import { type RunSource, startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { ModelInputs, withDatasetParams } from './model-inputs';

export interface EvaluateRequest {
  dataset: string;
  split: string;
  model: string;
  params?: Record<string, unknown>;
  /**
   * Metric names (lib/eval/names: rmse, mae, precision@K, recall@K, ndcg@K, map@K, mrr, hr@K, auc, coverage,
   * novelty, …); default: rmse, mae for rating models, ndcg@10, precision@10, recall@10 for ranking models.
   */
  metrics?: string[];
  /** Ranking protocols: "full" (default) and/or "sampled:<N>". */
  protocols?: string[];
  /** Held-out rating ≥ relevance is relevant (default 4); null: every held-out interaction is relevant. */
  relevance?: number | null;
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
  /** The run's page in the MLflow UI when the run was tracked. */
  runUrl: string | null;
  /** Labels of the protocols that produced `metrics`, comma-separated (e.g. "rating,full"). */
  protocol: string;
  /** Relevance threshold of the ranking metrics (null: every held-out interaction relevant). */
  relevance: number | null;
  /** One entry per protocol: its label, settings, user counts and metric values. */
  evaluation: EvaluationSummary[];
  /** Per-epoch reports of the fit. */
  epochs: EpochReport[];
  /** Full per-protocol results, with per-user values (for significance tests; not printed by the CLI). */
  protocols: ProtocolResult[];
}

export interface EvaluationSummary {
  protocol: string;
  relevance: number | null;
  users: number;
  usersWithoutRelevant: number;
  cases: number;
  listLength?: number;
  negatives?: number;
  seed?: number;
  scoring: string;
  seconds: number;
  metrics: Record<string, number>;
}

function summarise(r: ProtocolResult): EvaluationSummary {
  const { perUser: _perUser, ...rest } = r;
  return rest;
}

/** Loads data, splits, fits a model, evaluates it and (when tracking) logs the run to MLflow. */
export async function evaluate(request: EvaluateRequest): Promise<EvaluateResult> {
  const entry = modelEntry(request.model);
  const metricNames =
    request.metrics ?? (entry.task === 'rating' ? ['rmse', 'mae'] : ['ndcg@10', 'precision@10', 'recall@10']);
  const specs = parseMetrics(metricNames);
  const ratingSpecs = specs.filter((s) => s.family === 'rating');
  const rankingSpecs = specs.filter((s) => s.family !== 'rating');
  if (entry.task === 'ranking' && ratingSpecs.length > 0)
    throw new ConfigError(
      'metrics',
      `rating metrics (${ratingSpecs.map((s) => s.name).join(', ')}) need predicted ratings, but ${request.model} is a ranking model ` +
        '(its scores are not ratings); use ranking metrics such as ndcg@10, precision@10, recall@10',
    );
  const protocols = rankingSpecs.length > 0 ? (request.protocols ?? ['full']).map(parseProtocol) : [];
  const relevance = request.relevance === undefined ? DEFAULT_RELEVANCE : request.relevance;
  if (relevance !== null && !Number.isFinite(relevance))
    throw new ConfigError('relevance', `must be a number (rating ≥ relevance is relevant), got ${relevance}`);
  const model = createModel(
    request.model,
    withDatasetParams(request.model, request.params ?? {}, request.dataset, request.dataDir),
  );
  const seed = request.seed ?? 42;
  const all = loadRatings(request.dataset, { dataDir: request.dataDir, seed });
  const split = makeSplit(all, request.split, request.dataset, { seed, dataDir: request.dataDir });
  // Genres / movie content for the models that need them (als-genre, gbdt, hybrid-nn), loaded only then.
  const inputs = new ModelInputs(request.dataset, all, { dataDir: request.dataDir, seed });
  inputs.give(model);

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
    if (run) {
      const evalParams: Record<string, string> = {};
      if (protocols.length > 0) {
        evalParams['eval.protocols'] = protocols.map(protocolLabel).join(',');
        evalParams['eval.relevance'] = relevance === null ? 'all' : String(relevance);
      }
      await run.logParams({
        ...model.params,
        dataset: request.dataset,
        split: request.split,
        seed,
        ...evalParams,
      });
    }
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
    const results = await evaluateModel(model, split.train, split.test, {
      metrics: specs.map((s) => s.name),
      protocols: protocols.map(protocolLabel),
      relevance,
      seed,
      threads: request.threads ?? defaultThreads(),
      itemGenres: rankingSpecs.some((s) => s.kind === 'diversity') ? inputs.itemGenres() : null,
    });
    // Flat metrics as the CLI contract shows them; with several ranking protocols, keys carry the protocol.
    const qualify = protocols.length > 1;
    const values: Record<string, number> = {};
    const tracked: Record<string, number> = {};
    for (const r of results) {
      for (const [name, v] of Object.entries(r.metrics)) {
        const ranking = r.protocol !== 'rating';
        values[ranking && qualify ? `${r.protocol}/${name}` : name] = v;
        tracked[ranking ? mlflowMetricKey(name, r.protocol) : name] = v;
      }
      if (r.protocol !== 'rating') {
        tracked[mlflowMetricKey('users', r.protocol)] = r.users;
        tracked[mlflowMetricKey('users_without_relevant', r.protocol)] = r.usersWithoutRelevant;
      }
    }
    if (run) {
      await run.logMetrics({ ...tracked, fit_seconds: fitSeconds });
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
      runUrl: run?.uiUrl ?? null,
      protocol: results.map((r) => r.protocol).join(','),
      relevance: protocols.length > 0 ? relevance : null,
      evaluation: results.map(summarise),
      epochs,
      protocols: results,
    };
  } catch (err) {
    if (run?.isOpen) await run.end('FAILED', { error: err }).catch(() => {});
    throw err;
  }
}
