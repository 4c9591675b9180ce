import { defaultThreads } from '../compute/pool';
import type { FutureLeakage } from '../data/split';
import { type EpochRecord, fitEvaluateRecord } from '../eval/fit-evaluate-record';
import { parseMetrics } from '../eval/names';
import { DEFAULT_RELEVANCE, type ProtocolResult, parseProtocol, protocolLabel } from '../eval/protocols';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import { datasetInputsFor } from '../tracking/dataset-input';
import { startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { fitFigureInput, logRunFigures } from '../viz/run-figures';
import { loadRunData, type RunSettings } from './run-data';

export interface EvaluateRequest extends RunSettings {
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
  onEpoch?: (report: EpochReport, record: EpochRecord) => void;
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
  /** Per-epoch numbers of the fit as recorded (`test_rmse`: measured on the test part). */
  epochs: EpochRecord[];
  /** Full per-protocol results, with per-user values (for significance tests; not printed by the CLI). */
  protocols: ProtocolResult[];
  /** Where the split let training see a user's future (random / k-fold splits of timestamped data), else null. */
  leakage: FutureLeakage | null;
}

/** One protocol's result without its per-user values (what the CLI prints). */
export type EvaluationSummary = Omit<ProtocolResult, 'perUser'>;

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
  // Validate the params before any data is read (a typo fails at once).
  createModel(request.model, request.params ?? {});
  const data = await loadRunData(request.dataset, request.split, request);
  const { seed, seeds } = data;
  const split = data.split!;
  const inputs = data.side;

  const run = request.tracking
    ? await startRun(request.tracking, {
        experiment: request.experiment ?? `reelab-${request.dataset}`,
        runName: `${request.model} ${request.dataset} ${request.split}`,
        source: request.source ?? 'script',
        sourceName: request.sourceName,
        dataset: request.dataset,
        datasetSha256: data.ratingsSha256 ?? undefined,
        seed,
        tags: {
          'reelab.split': request.split,
          'reelab.model': request.model,
          'reelab.task': entry.task,
        },
      })
    : null;
  try {
    await run?.logDatasetInputs(
      await datasetInputsFor(request.dataset, request.dataDir, seeds.split, split.name, {
        train: split.train,
        test: split.test,
      }),
    );
    const evalParams: Record<string, string> = {};
    if (protocols.length > 0) {
      evalParams['eval.protocols'] = protocols.map(protocolLabel).join(',');
      evalParams['eval.relevance'] = relevance === null ? 'all' : String(relevance);
    }
    const r = await fitEvaluateRecord({
      model: request.model,
      params: request.params,
      modelSeed: seeds.model,
      train: split.train,
      heldOut: split.test,
      heldOutRole: 'test',
      inputs,
      metrics: specs.map((s) => s.name),
      protocols: protocols.map(protocolLabel),
      relevance,
      evaluationSeed: seeds.evaluation,
      threads: request.threads ?? defaultThreads(),
      run,
      recordParams: { dataset: request.dataset, split: request.split, seed, ...evalParams },
      onEpoch: (report, record) => request.onEpoch?.(report, record),
    });
    if (run) {
      await logRunFigures(run, fitFigureInput(`${request.model} ${request.dataset} ${request.split}`, r));
      await run.logJson(
        {
          kind: 'evaluate',
          dataset: request.dataset,
          split: request.split,
          model: request.model,
          params: r.params,
          seed,
          seeds,
          metrics: specs.map((s) => s.name),
          protocols: protocols.map(protocolLabel),
          relevance,
        },
        'config.json',
      );
      await run.end('FINISHED');
    }
    // Flat metrics as the CLI contract shows them; with several ranking protocols, keys carry the protocol.
    const qualify = protocols.length > 1;
    const values: Record<string, number> = {};
    for (const res of r.results)
      for (const [name, v] of Object.entries(res.metrics))
        values[res.protocol !== 'rating' && qualify ? `${res.protocol}/${name}` : name] = v;
    return {
      model: request.model,
      dataset: request.dataset,
      split: request.split,
      params: r.params,
      metrics: values,
      fitSeconds: r.fitSeconds,
      trainRatings: split.train.size,
      testRatings: split.test.size,
      runId: run?.runId ?? null,
      runUrl: run?.uiUrl ?? null,
      protocol: r.results.map((res) => res.protocol).join(','),
      relevance: protocols.length > 0 ? relevance : null,
      evaluation: r.results.map(summarise),
      epochs: r.epochs,
      protocols: r.results,
      leakage: split.leakage,
    };
  } catch (err) {
    if (run?.isOpen) await run.end('FAILED', { error: err }).catch(() => {});
    throw err;
  }
}
