import { MODELS, type ModelEntry } from '../models/registry';

/** The parameter that sets a model's number of training epochs ('epochs' or 'iterations'), or null. */
export function epochParamOf(entry: ModelEntry): string | null {
  const shape = entry.schema.shape;
  if ('epochs' in shape) return 'epochs';
  if ('iterations' in shape) return 'iterations';
  return null;
}

/** Registry names, for error messages. */
export function modelNames(): string[] {
  return [...MODELS.keys()];
}

/** Parameter names of a model, for error messages. */
export function paramNames(entry: ModelEntry): string[] {
  return Object.keys(entry.schema.shape);
}

/** Parameters that name machine-local things: never part of a config, a trial hash or a logged param. */
export const LOCAL_PARAMS: readonly string[] = ['dataDir'];

/** min for error-like metrics (rmse, mae, loss, …), max for everything else. */
export function defaultGoal(metric: string): 'min' | 'max' {
  return /rmse|mae|loss|popularity-bias|popularity_bias/.test(metric) ? 'min' : 'max';
}

/** Per-epoch metrics every rating model reports (given training data and a validation part). */
export const RATING_EPOCH_METRICS: readonly string[] = ['train_rmse', 'validation_rmse'];
