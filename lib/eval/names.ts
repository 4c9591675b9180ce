import { ConfigError } from '../util/errors';

/**
 * Metric names (the CLI contract plus reelab's additions):
 *   rmse mae                         rating prediction (rating protocol)
 *   precision@K recall@K ndcg@K      ranking accuracy at K (binary gain)
 *   ndcg-graded@K                    NDCG@K with the held-out rating as (linear) gain
 *   map@K hr@K mrr@K                 MAP@K, hit rate@K, reciprocal rank truncated at K
 *   mrr auc                          untruncated: rank of the first relevant item / all pairs
 *   coverage[@K] novelty[@K] diversity[@K] popularity-bias[@K]
 *                                    beyond accuracy, over each user's first K items (K = 10 when omitted)
 */
export type MetricKind =
  | 'rmse'
  | 'mae'
  | 'precision'
  | 'recall'
  | 'ndcg'
  | 'ndcg-graded'
  | 'map'
  | 'hr'
  | 'mrr'
  | 'auc'
  | 'coverage'
  | 'novelty'
  | 'diversity'
  | 'popularity-bias';

export type MetricFamily = 'rating' | 'accuracy' | 'beyond';

export interface MetricSpec {
  /** The canonical name, used as the key of results (lower case, e.g. "ndcg@10"). */
  name: string;
  kind: MetricKind;
  /** List length, or null for metrics over the whole ranking (rmse, mae, mrr, auc). */
  k: number | null;
  family: MetricFamily;
}

/** List length of coverage, novelty, diversity and popularity-bias when the name has no @K. */
export const DEFAULT_LIST_K = 10;

const NEEDS_K: MetricKind[] = ['precision', 'recall', 'ndcg', 'ndcg-graded', 'map', 'hr'];
const OPTIONAL_K: MetricKind[] = ['coverage', 'novelty', 'diversity', 'popularity-bias'];
const NO_K: MetricKind[] = ['rmse', 'mae', 'auc'];

export const METRIC_NAMES_HELP =
  'rmse, mae, precision@K, recall@K, ndcg@K, ndcg-graded@K, map@K, hr@K, mrr, mrr@K, auc, ' +
  'coverage[@K], novelty[@K], diversity[@K], popularity-bias[@K] (K a positive integer)';

function familyOf(kind: MetricKind): MetricFamily {
  if (kind === 'rmse' || kind === 'mae') return 'rating';
  if ((OPTIONAL_K as string[]).includes(kind)) return 'beyond';
  return 'accuracy';
}

/** The ranking protocols (lib/eval/protocols.ts), as error messages and help texts list them. */
export const PROTOCOL_NAMES_HELP =
  'full or sampled:<N> (N ≥ 1 negatives drawn uniformly) or sampled-pop:<N> (N negatives drawn ∝ training popularity)';

/** Parses one metric name; throws a ConfigError listing the valid names. */
export function parseMetric(raw: string): MetricSpec {
  const text = raw.trim().toLowerCase();
  const m = /^([a-z][a-z-]*)(?:@(\d+))?$/.exec(text);
  const bad = (why: string) => new ConfigError('metrics', `${why}; valid metrics: ${METRIC_NAMES_HELP}`);
  if (!m) throw bad(`unknown metric "${raw}"`);
  const kind = m[1] as MetricKind;
  const kText = m[2];
  const known = [...NEEDS_K, ...OPTIONAL_K, ...NO_K, 'mrr'];
  if (!known.includes(kind)) throw bad(`unknown metric "${raw}"`);
  let k: number | null = null;
  if (kText !== undefined) {
    k = Number(kText);
    if (!(Number.isSafeInteger(k) && k >= 1)) throw bad(`"${raw}": K must be a positive integer`);
    if ((NO_K as string[]).includes(kind)) throw bad(`"${raw}": ${kind} takes no @K`);
  } else if ((NEEDS_K as string[]).includes(kind)) {
    throw bad(`"${raw}" needs a list length, e.g. ${kind}@10`);
  } else if ((OPTIONAL_K as string[]).includes(kind)) {
    return { name: kind, kind, k: DEFAULT_LIST_K, family: 'beyond' };
  }
  return { name: k === null ? kind : `${kind}@${k}`, kind, k, family: familyOf(kind) };
}

/** Parses a list of names (duplicates removed, order kept). */
export function parseMetrics(names: readonly string[]): MetricSpec[] {
  if (names.length === 0)
    throw new ConfigError('metrics', `no metric given; valid metrics: ${METRIC_NAMES_HELP}`);
  const out: MetricSpec[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    const spec = parseMetric(n);
    if (seen.has(spec.name)) continue;
    seen.add(spec.name);
    out.push(spec);
  }
  return out;
}

/** A metric key MLflow accepts (no "@" or ":"): "ndcg@10" → "ndcg_at_10"; with a protocol, "full/ndcg_at_10". */
export function mlflowMetricKey(metric: string, protocol?: string): string {
  const m = metric.replace(/@/g, '_at_');
  return protocol ? `${protocol.replace(/:/g, '-')}/${m}` : m;
}
