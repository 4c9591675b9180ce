import type { Scalar, Tensor1D } from '@tensorflow/tfjs';
import type { TF } from '../../compute/tensor';
import type { Interactions } from '../../data/interactions';
import { rmse } from '../../eval/metrics';
import { throwIfAborted } from '../../util/errors';
import { Rng } from '../../util/rng';
import type { FitOptions } from '../recommender';
import type { NetworkShape, NetworkWeights } from './network';
import { TfNetwork } from './tf-network';

export type TrainMode = 'rating' | 'implicit';

export interface TrainConfig {
  mode: TrainMode;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 on the embedding rows and biases a batch touches (per example). */
  reg: number;
  /** L2 on dense and content weights. */
  weightDecay: number;
  dropout: number;
  /** Epochs without improvement on the holdout before stopping. */
  patience: number;
  /** Fraction of the training ratings held out for early stopping (0: train all epochs, no holdout). */
  holdout: number;
  /** Implicit mode: sampled negatives per positive. */
  negatives: number;
  /** Implicit mode: ratings ≥ this count as positives (0: every interaction). */
  positiveThreshold: number;
  seed: number;
}

export interface TrainResult {
  weights: NetworkWeights;
  epochsRun: number;
  /** Epoch whose weights were kept (the best on the holdout, else the last). */
  bestEpoch: number;
  stoppedEarly: boolean;
}

interface Pairs {
  users: Int32Array;
  items: Int32Array;
  labels: Float32Array;
}

const EVAL_CHUNK = 16384;
const TRAIN_RMSE_SAMPLE = 50000;

/** Fits the network with Adam on mini-batches; seeded batching, negatives and dropout. */
export async function trainNetwork(
  tf: TF,
  shape: NetworkShape,
  initial: NetworkWeights,
  content: Float32Array,
  train: Interactions,
  config: TrainConfig,
  range: [number, number],
  options: FitOptions,
): Promise<TrainResult> {
  const net = new TfNetwork(tf, shape, initial, content);
  const optimizer = tf.train.adam(config.learningRate);
  try {
    return await run(tf, net, optimizer, train, config, range, options);
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}

async function run(
  tf: TF,
  net: TfNetwork,
  optimizer: ReturnType<TF['train']['adam']>,
  train: Interactions,
  config: TrainConfig,
  range: [number, number],
  options: FitOptions,
): Promise<TrainResult> {
  const { mode, epochs, batchSize } = config;
  const rngSplit = Rng.derive(config.seed, 11);
  const rngBatch = Rng.derive(config.seed, 12);
  const rngDrop = Rng.derive(config.seed, 13);

  // Rows that take part: every rating (rating mode) or the positives (implicit mode).
  const candidates: number[] = [];
  for (let k = 0; k < train.size; k++)
    if (mode === 'rating' || train.ratings[k]! >= config.positiveThreshold) candidates.push(k);
  const perm = rngSplit.shuffle(Int32Array.from(candidates));
  const nHold = config.holdout > 0 ? Math.min(perm.length - 1, Math.round(perm.length * config.holdout)) : 0;
  const holdRows = perm.subarray(0, nHold);
  const fitRows = perm.slice(nHold);
  const seen = train.csr();
  const negative = (u: number, rng: Rng) => sampleNegative(u, rng, seen.indptr, seen.indices, train.nItems);

  const holdout = nHold > 0 ? pairsOf(train, holdRows, mode, config.negatives, rngSplit, negative) : null;
  const trainSample =
    mode === 'rating' ? pairsOf(train, fitRows.subarray(0, TRAIN_RMSE_SAMPLE), mode, 0) : null;
  const validation = mode === 'rating' && options.validation ? allPairs(options.validation) : null;

  const perExample = 1 + (mode === 'implicit' ? config.negatives : 0);
  const bu = new Int32Array(batchSize * perExample);
  const bi = new Int32Array(batchSize * perExample);
  const by = new Float32Array(batchSize * perExample);

  let best = Number.POSITIVE_INFINITY;
  let bestWeights: NetworkWeights | null = null;
  let bestEpoch = 0;
  let bad = 0;
  let epoch = 0;
  let stoppedEarly = false;
  while (epoch < epochs) {
    epoch++;
    throwIfAborted(options.signal, 'neural network training');
    const started = performance.now();
    rngBatch.shuffle(fitRows);
    let lossSum = 0;
    let lossCount = 0;
    for (let start = 0; start < fitRows.length; start += batchSize) {
      const end = Math.min(fitRows.length, start + batchSize);
      let n = 0;
      for (let p = start; p < end; p++) {
        const r = fitRows[p]!;
        const u = train.users[r]!;
        bu[n] = u;
        bi[n] = train.items[r]!;
        by[n++] = mode === 'rating' ? train.ratings[r]! : 1;
        if (mode === 'implicit') {
          for (let k = 0; k < config.negatives; k++) {
            bu[n] = u;
            bi[n] = negative(u, rngBatch);
            by[n++] = 0;
          }
        }
      }
      const dropSeed = rngDrop.nextUint32() % 1_000_000_007;
      const users = tf.tensor1d(bu.subarray(0, n), 'int32');
      const items = tf.tensor1d(bi.subarray(0, n), 'int32');
      const labels = tf.tensor1d(by.subarray(0, n), 'float32');
      const cost = optimizer.minimize(
        () => {
          const { score, penalty } = net.forward(users, items, { rate: config.dropout, seed: dropSeed });
          const data: Scalar =
            mode === 'rating'
              ? tf.mean(tf.square(tf.sub(score, labels)))
              : tf.losses.sigmoidCrossEntropy(labels, score);
          return tf.addN([
            data,
            tf.mul(penalty, config.reg / n),
            tf.mul(net.densePenalty(), config.weightDecay),
          ]) as Scalar;
        },
        true,
        net.variables,
      );
      lossSum += (cost!.dataSync()[0] ?? 0) * n;
      lossCount += n;
      tf.dispose([cost!, users, items, labels]);
      if ((start / batchSize) % 64 === 63) {
        throwIfAborted(options.signal, 'neural network training');
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const seconds = (performance.now() - started) / 1000;

    const metrics: Record<string, number> = {};
    let holdMetric: number | null = null;
    if (holdout) {
      const s = scorePairs(tf, net, holdout);
      holdMetric = mode === 'rating' ? rmseOf(s, holdout.labels, range) : logLossOf(s, holdout.labels);
      metrics[mode === 'rating' ? 'holdoutRmse' : 'holdoutLogLoss'] = holdMetric;
    }
    const trainRmse = trainSample
      ? rmseOf(scorePairs(tf, net, trainSample), trainSample.labels, range)
      : undefined;
    const validationRmse = validation
      ? rmseOf(scorePairs(tf, net, validation), validation.labels, range)
      : undefined;
    options.onEpoch?.({
      epoch,
      epochs,
      seconds,
      loss: lossSum / Math.max(1, lossCount),
      trainRmse,
      validationRmse,
      metrics,
    });

    if (holdMetric !== null) {
      if (holdMetric < best - 1e-6) {
        best = holdMetric;
        bestWeights = net.read();
        bestEpoch = epoch;
        bad = 0;
      } else if (++bad >= config.patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (bestWeights) return { weights: bestWeights, epochsRun: epoch, bestEpoch, stoppedEarly };
  return { weights: net.read(), epochsRun: epoch, bestEpoch: epoch, stoppedEarly };
}

/** Network scores of many pairs, in chunks (no dropout). */
export function scorePairs(
  tf: TF,
  net: TfNetwork,
  pairs: { users: Int32Array; items: Int32Array },
): Float32Array {
  const out = new Float32Array(pairs.users.length);
  for (let start = 0; start < out.length; start += EVAL_CHUNK) {
    const end = Math.min(out.length, start + EVAL_CHUNK);
    const scores = tf.tidy(() => {
      const u = tf.tensor1d(pairs.users.subarray(start, end), 'int32');
      const i = tf.tensor1d(pairs.items.subarray(start, end), 'int32');
      return net.forward(u as Tensor1D, i as Tensor1D, null).score;
    });
    // Read back outside tidy (tidy walks returned typed arrays element by element).
    out.set(scores.dataSync() as Float32Array, start);
    scores.dispose();
  }
  return out;
}

function pairsOf(
  data: Interactions,
  rows: Int32Array,
  mode: 'rating' | 'implicit',
  negatives: number,
  rng?: Rng,
  negative?: (u: number, rng: Rng) => number,
): Pairs {
  const per = mode === 'implicit' ? 1 + negatives : 1;
  const n = rows.length * per;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const labels = new Float32Array(n);
  let p = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const u = data.users[r]!;
    users[p] = u;
    items[p] = data.items[r]!;
    labels[p++] = mode === 'rating' ? data.ratings[r]! : 1;
    for (let j = 1; j < per; j++) {
      users[p] = u;
      items[p] = negative!(u, rng!);
      labels[p++] = 0;
    }
  }
  return { users, items, labels };
}

function allPairs(data: Interactions): Pairs {
  return { users: data.users, items: data.items, labels: data.ratings };
}

/** A uniformly drawn item the user has not interacted with (gives up after 64 draws on dense rows). */
export function sampleNegative(
  u: number,
  rng: Rng,
  indptr: Int32Array,
  indices: Int32Array,
  nItems: number,
): number {
  const lo = indptr[u]!;
  const hi = indptr[u + 1]!;
  let j = rng.int(nItems);
  for (let attempt = 0; attempt < 64 && contains(indices, lo, hi, j); attempt++) j = rng.int(nItems);
  return j;
}

function contains(sorted: Int32Array, lo: number, hi: number, x: number): boolean {
  let a = lo;
  let b = hi - 1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    const v = sorted[m]!;
    if (v === x) return true;
    if (v < x) a = m + 1;
    else b = m - 1;
  }
  return false;
}

/** RMSE of the scores clipped to the rating range, as predictions are. */
function rmseOf(scores: Float32Array, labels: Float32Array, [low, high]: [number, number]): number {
  const clipped = scores.map((v) => Math.min(high, Math.max(low, v)));
  return rmse(labels, clipped);
}

function logLossOf(logits: Float32Array, labels: Float32Array): number {
  let s = 0;
  for (let k = 0; k < logits.length; k++) {
    const z = logits[k]!;
    // log(1 + e^z) - y z, computed stably.
    s += Math.max(z, 0) - z * labels[k]! + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return s / Math.max(1, logits.length);
}
