/**
 * The numbers of a report, computed from ReportData only (deterministic: same data, same numbers):
 * - leaderboard: each model entry's best configuration, its metrics with confidence intervals — a Student-t
 *   interval over the test folds when there are several, else a percentile bootstrap over users (seeded) —
 *   and paired significance tests against the best entry on per-user values (pairs: same fold, same user);
 * - the search table: every configuration's mean selection metric over its trials.
 */
import type { ExperimentConfig, ParamInput } from '../config/schema';
import { parseMetrics } from '../eval/names';
import { pairedTTest, wilcoxonSignedRank } from '../eval/significance';
import { bestConfig, configScores, selectKey } from '../search/plan';
import { metricKey, type PerUserValues } from '../search/trial';
import { hashValue, seedFromHash } from '../util/hash';
import type { ParamValue } from '../util/params-text';
import { Rng } from '../util/rng';
import { meanConfidenceInterval } from '../viz/aggregate';
import { leaderboardTrials, type ReportData, type ReportTrial } from './data';

export interface MetricInfo {
  /** MLflow key, e.g. `rmse`, `full/ndcg_at_10`. */
  key: string;
  /** Canonical name, e.g. `ndcg@10`. */
  name: string;
  protocol: string;
  goal: 'min' | 'max';
  /** Whether per-user values exist (everything but catalogue coverage). */
  perUser: boolean;
}

/** The metrics of an experiment, in config order (ranking metrics once per protocol). */
export function metricInfos(config: ExperimentConfig): MetricInfo[] {
  const out: MetricInfo[] = [];
  for (const s of parseMetrics(config.metrics)) {
    const goal: 'min' | 'max' =
      s.kind === 'rmse' || s.kind === 'mae' || s.kind === 'popularity-bias' ? 'min' : 'max';
    if (s.family === 'rating')
      out.push({ key: s.name, name: s.name, protocol: 'rating', goal, perUser: true });
    else
      for (const p of config.protocols) {
        if (s.family === 'beyond' && p !== 'full') continue;
        out.push({
          key: metricKey(s.name, p),
          name: s.name,
          protocol: p,
          goal,
          perUser: s.kind !== 'coverage',
        });
      }
  }
  return out;
}

export interface Interval {
  value: number;
  lower: number | null;
  upper: number | null;
  /** Values behind the interval: folds, or users for the bootstrap. */
  n: number;
  method: 'folds' | 'bootstrap' | 'none';
}

export interface PairedResult {
  /** Mean of (entry − best) over the paired (fold, user) values. */
  meanDifference: number;
  n: number;
  tP: number | null;
  wilcoxonP: number | null;
}

export interface LeaderboardRow {
  entry: number;
  label: string;
  model: string;
  config: number | null;
  searched: Record<string, ParamValue>;
  /** Fixed + searched params as the config gives them. */
  given: Record<string, ParamInput>;
  trials: ReportTrial[];
  values: Record<string, Interval>;
  /** Against the best entry, per metric key (null: this is the best entry, or no per-user values). */
  versusBest: Record<string, PairedResult | null>;
  /** Epoch counts the final trials were trained for (early stopping), by split. */
  epochs: number[];
}

export interface ConfigRow {
  entry: number;
  config: number;
  searched: Record<string, ParamValue>;
  score: number | null;
  sd: number | null;
  n: number;
  best: boolean;
  /** Mean best epoch over the configuration's trials (early stopping), null without. */
  bestEpoch: number | null;
  failed: number;
}

export interface ReportModel {
  data: ReportData;
  selectKey: string;
  metrics: MetricInfo[];
  /** How intervals were computed, in words. */
  ciMethod: string;
  leaderboard: LeaderboardRow[];
  /** Entry of the best leaderboard row (null when nothing succeeded). */
  bestEntry: number | null;
  configs: ConfigRow[][];
  failed: ReportTrial[];
}

function mean(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function sd(values: number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

/** Percentile bootstrap over users of a metric's per-user values (rmse/mae recombined with rating weights). */
export function bootstrapInterval(
  pu: PerUserValues,
  metricName: string,
  level: number,
  resamples: number,
  seed: number,
): { lower: number; upper: number } {
  const n = pu.values.length;
  const v = Float64Array.from(pu.values);
  const w = pu.weights ? Float64Array.from(pu.weights) : null;
  const kind = metricName === 'rmse' ? 'rmse' : metricName === 'mae' ? 'mae' : 'mean';
  const rng = new Rng(seed);
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let num = 0;
    let den = 0;
    for (let j = 0; j < n; j++) {
      const u = rng.int(n);
      const weight = kind === 'mean' || !w ? 1 : w[u]!;
      num += kind === 'rmse' ? weight * v[u]! * v[u]! : weight * v[u]!;
      den += weight;
    }
    stats[b] = kind === 'rmse' ? Math.sqrt(num / den) : num / den;
  }
  stats.sort();
  const alpha = (1 - level) / 2;
  const lo = Math.min(resamples - 1, Math.max(0, Math.floor(alpha * resamples)));
  const hi = Math.min(resamples - 1, Math.max(0, Math.ceil((1 - alpha) * resamples) - 1));
  return { lower: stats[lo]!, upper: stats[hi]! };
}

function paired(
  a: ReportTrial[],
  b: ReportTrial[],
  key: string,
  perUser: ReportData['perUser'],
): { x: number[]; y: number[] } | null {
  const x: number[] = [];
  const y: number[] = [];
  for (const ta of a) {
    const tb = b.find((t) => t.split === ta.split);
    const pa = perUser[String(ta.index)]?.[key];
    const pb = tb ? perUser[String(tb.index)]?.[key] : undefined;
    if (!pa || !pb) return null;
    const index = new Map<number, number>();
    for (let j = 0; j < pb.users.length; j++) index.set(pb.users[j]!, j);
    // Pairs in ascending user order within a fold, folds in the order of the splits.
    const rows: Array<[number, number, number]> = [];
    pa.users.forEach((u, j) => {
      const k = index.get(u);
      if (k !== undefined) rows.push([u, pa.values[j]!, pb.values[k]!]);
    });
    rows.sort((p, q) => p[0] - q[0]);
    for (const r of rows) {
      x.push(r[1]);
      y.push(r[2]);
    }
  }
  return x.length > 0 ? { x, y } : null;
}

/** Computes everything the report shows (see the module comment). */
export function buildReportModel(data: ReportData): ReportModel {
  const config = data.config;
  const key = selectKey(config);
  const metrics = metricInfos(config);
  const level = config.report.confidence;
  const folds = config.splits.length;
  const lbs = leaderboardTrials(config, data.trials, key);
  const rows: LeaderboardRow[] = lbs.map((lb) => {
    const m = config.models[lb.entry]!;
    const searched =
      lb.config === null
        ? {}
        : (data.trials.find((t) => t.entry === lb.entry && t.config === lb.config)?.searched ?? {});
    const values: Record<string, Interval> = {};
    for (const info of metrics) {
      const vs = lb.trials
        .map((t) => t.metrics[info.key])
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (vs.length === 0 || vs.length !== lb.trials.length) continue;
      if (folds >= 2 && vs.length >= 2) {
        const ci = meanConfidenceInterval(vs, level);
        values[info.key] = {
          value: ci.mean,
          lower: ci.lower,
          upper: ci.upper,
          n: vs.length,
          method: 'folds',
        };
      } else {
        const pu = data.perUser[String(lb.trials[0]!.index)]?.[info.key];
        if (pu && pu.values.length > 1) {
          const seed = seedFromHash(hashValue({ seed: config.seed, label: m.label, key: info.key }));
          const b = bootstrapInterval(pu, info.name, level, config.report.bootstrap, seed);
          values[info.key] = {
            value: vs[0]!,
            lower: b.lower,
            upper: b.upper,
            n: pu.values.length,
            method: 'bootstrap',
          };
        } else values[info.key] = { value: mean(vs), lower: null, upper: null, n: vs.length, method: 'none' };
      }
    }
    const epochParam = lb.trials[0]
      ? Object.keys(lb.trials[0].params).find((p) => p === 'epochs' || p === 'iterations')
      : undefined;
    return {
      entry: lb.entry,
      label: m.label,
      model: m.model,
      config: lb.config,
      searched,
      given: { ...m.params, ...searched },
      trials: lb.trials,
      values,
      versusBest: {},
      epochs: epochParam ? lb.trials.map((t) => Number(t.params[epochParam])) : [],
    };
  });
  const goal = config.select.goal;
  rows.sort((a, b) => {
    const va = a.values[key]?.value;
    const vb = b.values[key]?.value;
    if (va === undefined && vb === undefined) return a.entry - b.entry;
    if (va === undefined) return 1;
    if (vb === undefined) return -1;
    return (goal === 'min' ? va - vb : vb - va) || a.entry - b.entry;
  });
  const best = rows.find((r) => r.values[key] !== undefined) ?? null;
  for (const row of rows) {
    for (const info of metrics) {
      if (!best || row === best || !info.perUser) {
        row.versusBest[info.key] = null;
        continue;
      }
      const pairs = paired(row.trials, best.trials, info.key, data.perUser);
      if (!pairs || pairs.x.length < 2) {
        row.versusBest[info.key] = null;
        continue;
      }
      const t = pairedTTest(pairs.x, pairs.y);
      const w = wilcoxonSignedRank(pairs.x, pairs.y);
      row.versusBest[info.key] = {
        meanDifference: t.meanDifference,
        n: t.n,
        tP: t.pValue,
        wilcoxonP: w.pValue,
      };
    }
  }

  const configs: ConfigRow[][] = config.models.map((_, e) => {
    const scores = configScores(data.trials, e, key);
    const b = bestConfig(scores, goal);
    const rowsOut: ConfigRow[] = [];
    for (const [c] of scores) {
      const ts = data.trials.filter((t) => t.entry === e && t.role === 'search' && t.config === c);
      const vs = ts
        .map((t) => t.metrics[key])
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      const epochs = ts.map((t) => t.metrics.best_epoch).filter((v): v is number => v !== undefined && v > 0);
      rowsOut.push({
        entry: e,
        config: c,
        searched: ts[0]?.searched ?? {},
        score: scores.get(c) ?? null,
        sd: sd(vs),
        n: vs.length,
        best: c === b,
        bestEpoch: epochs.length ? mean(epochs) : null,
        failed: ts.filter((t) => t.status === 'failed').length,
      });
    }
    return rowsOut;
  });

  const anyBootstrap = rows.some((r) => Object.values(r.values).some((v) => v.method === 'bootstrap'));
  const pct = `${Math.round(level * 1000) / 10}%`;
  const ciMethod =
    folds >= 2
      ? `${pct} Student-t confidence intervals over the ${folds} test folds (mean ± t·sd/√${folds})`
      : anyBootstrap
        ? `${pct} percentile bootstrap intervals over test users (${config.report.bootstrap} resamples, seeded by the experiment seed` +
          (metrics.some((m) => m.protocol === 'rating')
            ? '; RMSE and MAE recombined from per-user errors weighted by their held-out ratings)'
            : ')')
        : 'no intervals (a single fold without per-user values)';
  return {
    data,
    selectKey: key,
    metrics,
    ciMethod,
    leaderboard: rows,
    bestEntry: best ? best.entry : null,
    configs,
    failed: data.trials.filter((t) => t.status === 'failed'),
  };
}
