import { ReelabError } from '../util/errors';

/** Error for metric inputs that would otherwise yield NaN. */
export class MetricInputError extends ReelabError {}

function checkPairs(name: string, actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
  if (actual.length !== predicted.length) {
    throw new MetricInputError(`${name}: ${actual.length} true values but ${predicted.length} predictions`);
  }
  if (actual.length === 0) throw new MetricInputError(`${name}: no ratings to evaluate (empty input)`);
}

/** Root mean squared error: sqrt(mean((actual - predicted)²)). Throws on empty input or NaN values. */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('rmse', actual, predicted);
  let s = 0;
  for (let k = 0; k < actual.length; k++) {
    const e = actual[k]! - predicted[k]!;
    if (Number.isNaN(e)) throw new MetricInputError(`rmse: NaN at position ${k}`);
    s += e * e;
  }
  return Math.sqrt(s / actual.length);
}

/** Mean absolute error: mean(|actual - predicted|). Throws on empty input or NaN values. */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPairs('mae', actual, predicted);
  let s = 0;
  for (let k = 0; k < actual.length; k++) {
    const e = Math.abs(actual[k]! - predicted[k]!);
    if (Number.isNaN(e)) throw new MetricInputError(`mae: NaN at position ${k}`);
    s += e;
  }
  return s / actual.length;
}
