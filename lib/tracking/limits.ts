import { ConfigError } from '../util/errors';

/**
 * The tracking server's per-request limits, as enforced by MLflow 3.x (mlflow/utils/validation.py:
 * MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_ENTITIES_PER_BATCH, MAX_BATCH_LOG_REQUEST_SIZE,
 * MAX_PARAM_VAL_LENGTH, MAX_TAG_VAL_LENGTH, MAX_ENTITY_KEY_LENGTH).
 */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  requestBytes: 1_000_000,
  paramValueChars: 6000,
  tagValueChars: 8000,
  keyChars: 250,
} as const;

export type MlflowLimits = { readonly [K in keyof typeof MLFLOW_LIMITS]: number };

/** Largest finite double: MLflow's SQL store stores ±Infinity as ±this value. */
const MAX_DOUBLE = 1.7976931348623157e308;

export interface MetricRecord {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface LogBatch {
  metrics: MetricRecord[];
  params: KeyValue[];
  tags: KeyValue[];
}

// MLflow accepts alphanumerics (Python's Unicode-aware \w), _ - . space / and : in names.
const NAME_CHARS = /^[\p{L}\p{N}\p{M}_/.\- :]*$/u;

/** Throws a ConfigError unless `key` is a name MLflow accepts for a metric, param or tag. */
export function checkRecordKey(kind: 'metric' | 'param' | 'tag', key: string): void {
  const field = `${kind} "${key}"`;
  if (typeof key !== 'string' || key.length === 0) throw new ConfigError(`${kind} name`, 'must not be empty');
  if (key.length > MLFLOW_LIMITS.keyChars)
    throw new ConfigError(field, `name is longer than ${MLFLOW_LIMITS.keyChars} characters`);
  if (!NAME_CHARS.test(key))
    throw new ConfigError(
      field,
      'names may only contain letters, digits, underscores, dashes, periods, spaces, colons and slashes',
    );
  // MLflow treats names as file paths in places, so they must already be in normal form.
  if (
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.includes('//') ||
    key.split('/').some((part) => part === '.' || part === '..')
  )
    throw new ConfigError(field, 'names must not contain empty, "." or ".." path segments or a leading "/"');
}

/** Throws a ConfigError naming the param when its value is longer than the server accepts. */
export function checkParamValue(key: string, value: string): void {
  if (value.length > MLFLOW_LIMITS.paramValueChars)
    throw new ConfigError(
      `param "${key}"`,
      `value has ${value.length} characters; MLflow accepts at most ${MLFLOW_LIMITS.paramValueChars} ` +
        '(log long values as an artifact instead)',
    );
}

/** Tag values longer than the server accepts are cut (the server would cut them too, silently). */
export function clipTagValue(value: string): string {
  return value.length > MLFLOW_LIMITS.tagValueChars
    ? `${value.slice(0, MLFLOW_LIMITS.tagValueChars - 1)}…`
    : value;
}

/**
 * The value as the server will store it: ±Infinity become ±MAX_DOUBLE (what MLflow's SQL store writes), so
 * what we keep locally and what we read back compare equal. Non-numbers are a ConfigError.
 */
export function normalizeMetricValue(key: string, value: number): number {
  if (typeof value !== 'number')
    throw new ConfigError(`metric "${key}"`, `value must be a number, got ${typeof value}`);
  if (value === Number.POSITIVE_INFINITY) return MAX_DOUBLE;
  if (value === Number.NEGATIVE_INFINITY) return -MAX_DOUBLE;
  return value;
}

export function checkStep(key: string, step: number): void {
  if (!Number.isSafeInteger(step))
    throw new ConfigError(`metric "${key}"`, `step must be an integer, got ${step}`);
}

export function checkTimestamp(key: string, timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new ConfigError(
      `metric "${key}"`,
      `timestamp must be a non-negative integer (ms), got ${timestamp}`,
    );
}

/** JSON form of a metric for the REST API: NaN travels as the string "NaN" (protobuf JSON). */
export function metricToJson(m: MetricRecord): {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
} {
  return { key: m.key, value: Number.isNaN(m.value) ? 'NaN' : m.value, timestamp: m.timestamp, step: m.step };
}

/** A metric value read from the REST API ("NaN", "Infinity" arrive as strings). */
export function metricFromJson(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Identity of a metric point for de-duplication: MLflow's own primary key minus the run. */
export function metricIdentity(m: MetricRecord): string {
  return `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${Number.isNaN(m.value) ? 'NaN' : String(m.value)}`;
}

const BATCH_OVERHEAD_BYTES = 200; // {"run_id":"…","metrics":[],"params":[],"tags":[]} plus slack

/**
 * Splits records into log-batch requests that each respect the server's limits (counts per kind, total
 * entities, request bytes). Params and tags go first, so a run's configuration lands before its metrics.
 */
export function splitBatch(batch: LogBatch, limits: MlflowLimits = MLFLOW_LIMITS): LogBatch[] {
  const out: LogBatch[] = [];
  let current: LogBatch = { metrics: [], params: [], tags: [] };
  let bytes = BATCH_OVERHEAD_BYTES;
  const count = () => current.metrics.length + current.params.length + current.tags.length;
  const push = <K extends keyof LogBatch>(kind: K, item: LogBatch[K][number], size: number, max: number) => {
    if (
      current[kind].length >= max ||
      count() >= limits.entitiesPerBatch ||
      (count() > 0 && bytes + size > limits.requestBytes)
    ) {
      out.push(current);
      current = { metrics: [], params: [], tags: [] };
      bytes = BATCH_OVERHEAD_BYTES;
    }
    (current[kind] as LogBatch[K][number][]).push(item);
    bytes += size;
  };
  for (const p of batch.params) push('params', p, jsonBytes(p), limits.paramsPerBatch);
  for (const t of batch.tags) push('tags', t, jsonBytes(t), limits.tagsPerBatch);
  for (const m of batch.metrics) push('metrics', m, jsonBytes(metricToJson(m)), limits.metricsPerBatch);
  if (count() > 0) out.push(current);
  return out;
}

function jsonBytes(value: object): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8') + 1;
}
