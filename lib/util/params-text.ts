/** A scalar hyperparameter value as models, configs, searches and MLflow records hold it. */
export type ParamValue = number | string | boolean;

/** One hyperparameter value as text: numbers and strings as they are, objects and arrays (ensemble members) as JSON. */
export function paramText(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `key=value` pairs joined by `separator`, or `empty` when there are none (e.g. "factors=50 epochs=30"). */
export function describeParams(params: Record<string, unknown>, separator = ' ', empty = 'defaults'): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${paramText(v)}`);
  return parts.length ? parts.join(separator) : empty;
}
