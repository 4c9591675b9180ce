/**
 * Hyperparameter search spaces as written in experiment configs, and how grid and random search expand them:
 *
 *   factors: [20, 50, 100]                 a list (grid: every value; random: a uniform choice)
 *   solver: {choice: [cg, cholesky]}       the same, spelled out
 *   learningRate: {uniform: [0.002, 0.02]}        a real range (random: uniform draw; grid needs `steps`)
 *   reg: {logUniform: [0.001, 1]}       a positive range drawn uniformly in log space (grid: geometric steps)
 *   factors: {int: [16, 128], step: 16}    integers low, low+step, …, ≤ high (both ends inclusive)
 *
 * Real values drawn or stepped are rounded to 6 significant digits (readable params, stable hashes).
 */

import type { ParamValue } from '../util/params-text';
import { Rng } from '../util/rng';

export type { ParamValue };

export type Space =
  | { kind: 'choice'; values: ParamValue[] }
  | { kind: 'uniform'; low: number; high: number; steps: number | null }
  | { kind: 'logUniform'; low: number; high: number; steps: number | null }
  | { kind: 'int'; low: number; high: number; step: number };

/** One parameter's space with its name (spaces keep the order of the config). */
export interface NamedSpace {
  name: string;
  space: Space;
}

export const SPACE_HELP =
  'a list of values, {choice: [...]}, {uniform: [low, high]}, {logUniform: [low, high]} (low > 0) or ' +
  '{int: [low, high]} (optional step); uniform/logUniform take steps: n for grid search';

/** Rounds a real parameter value to 6 significant digits. */
export function roundParam(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  return Number(v.toPrecision(6));
}

function isScalar(v: unknown): v is ParamValue {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean';
}

function isPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Where in a space spec a problem is (relative path) and what it is. */
export interface SpaceProblem {
  path: Array<string | number>;
  message: string;
}

/** Parses one space spec; returns the space or the problems found (paths relative to the spec). */
export function parseSpace(raw: unknown): { space: Space | null; problems: SpaceProblem[] } {
  const fail = (message: string, path: Array<string | number> = []) => ({
    space: null,
    problems: [{ path, message }],
  });
  let values: unknown[] | null = null;
  if (Array.isArray(raw)) values = raw;
  else if (raw !== null && typeof raw === 'object') {
    const obj = raw as Record<string, unknown>;
    const keys = Object.keys(obj);
    const kinds = keys.filter((k) => ['choice', 'uniform', 'logUniform', 'int'].includes(k));
    if (kinds.length !== 1)
      return fail(`expected ${SPACE_HELP}; got keys ${keys.length ? keys.join(', ') : '(none)'}`);
    const kind = kinds[0]!;
    const extraAllowed = kind === 'int' ? ['step'] : kind === 'choice' ? [] : ['steps'];
    const unknown = keys.filter((k) => k !== kind && !extraAllowed.includes(k));
    if (unknown.length > 0)
      return fail(
        `unknown key(s) ${unknown.join(', ')} in a ${kind} space; allowed: ${[kind, ...extraAllowed].join(', ')}`,
      );
    if (kind === 'choice') {
      if (!Array.isArray(obj.choice)) return fail('choice must be a list of values', ['choice']);
      values = obj.choice;
    } else {
      const range = obj[kind];
      if (!isPair(range)) return fail(`${kind} must be a pair of numbers [low, high]`, [kind]);
      const [low, high] = range;
      if (!(low <= high)) return fail(`low (${low}) must not exceed high (${high})`, [kind]);
      if (kind === 'int') {
        const step = obj.step === undefined ? 1 : obj.step;
        if (!Number.isInteger(low) || !Number.isInteger(high))
          return fail(`int bounds must be integers, got [${low}, ${high}]`, [kind]);
        if (!(typeof step === 'number' && Number.isInteger(step) && step >= 1))
          return fail(`step must be a positive integer, got ${JSON.stringify(step)}`, ['step']);
        return { space: { kind: 'int', low, high, step }, problems: [] };
      }
      if (kind === 'logUniform' && !(low > 0))
        return fail(`logUniform bounds must be positive, got [${low}, ${high}]`, [kind]);
      let steps: number | null = null;
      if (obj.steps !== undefined) {
        if (!(typeof obj.steps === 'number' && Number.isInteger(obj.steps) && obj.steps >= 2))
          return fail(`steps must be an integer ≥ 2, got ${JSON.stringify(obj.steps)}`, ['steps']);
        steps = obj.steps;
      }
      return {
        space: kind === 'uniform' ? { kind, low, high, steps } : { kind: 'logUniform', low, high, steps },
        problems: [],
      };
    }
  } else {
    return fail(`expected ${SPACE_HELP}; got ${JSON.stringify(raw)}`);
  }
  if (values.length === 0)
    return fail('empty list: a search space needs at least one value (fixed values go under params)');
  const problems: SpaceProblem[] = [];
  const base = Array.isArray(raw) ? [] : ['choice'];
  values.forEach((v, i) => {
    if (!isScalar(v))
      problems.push({
        path: [...base, i],
        message: `values must be numbers, strings or booleans, got ${JSON.stringify(v)}`,
      });
  });
  const seen = new Set<string>();
  values.forEach((v, i) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) problems.push({ path: [...base, i], message: `${key} is listed twice` });
    seen.add(key);
  });
  if (problems.length > 0) return { space: null, problems };
  return { space: { kind: 'choice', values: values as ParamValue[] }, problems: [] };
}

/** Every value grid search tries, or null for a real range without `steps`. */
export function gridValues(space: Space): ParamValue[] | null {
  switch (space.kind) {
    case 'choice':
      return space.values.slice();
    case 'int': {
      const out: number[] = [];
      for (let v = space.low; v <= space.high; v += space.step) out.push(v);
      return out;
    }
    case 'uniform': {
      if (space.steps === null) return null;
      const n = space.steps;
      return Array.from({ length: n }, (_, i) =>
        roundParam(space.low + ((space.high - space.low) * i) / (n - 1)),
      );
    }
    case 'logUniform': {
      if (space.steps === null) return null;
      const n = space.steps;
      const a = Math.log(space.low);
      const b = Math.log(space.high);
      return Array.from({ length: n }, (_, i) =>
        i === 0 ? space.low : i === n - 1 ? space.high : roundParam(Math.exp(a + ((b - a) * i) / (n - 1))),
      );
    }
  }
}

/** Values to check against the model's schema before any work: every listed value, or a range's ends and middle. */
export function probeValues(space: Space): ParamValue[] {
  const grid = gridValues(space);
  if (grid !== null && grid.length <= 1000) return grid;
  if (space.kind === 'choice') return space.values;
  if (space.kind === 'int') return [space.low, space.high];
  // The ends and an interior point that is not a round number (so integer-only parameters show up).
  const t = 0.3719;
  const inner =
    space.kind === 'logUniform'
      ? roundParam(Math.exp(Math.log(space.low) + t * (Math.log(space.high) - Math.log(space.low))))
      : roundParam(space.low + t * (space.high - space.low));
  return [space.low, inner, space.high];
}

/** One draw from a space. */
export function sampleSpace(space: Space, rng: Rng): ParamValue {
  switch (space.kind) {
    case 'choice':
      return space.values[rng.int(space.values.length)]!;
    case 'int':
      return space.low + rng.int(Math.floor((space.high - space.low) / space.step) + 1) * space.step;
    case 'uniform':
      return clamp(roundParam(space.low + (space.high - space.low) * rng.next()), space.low, space.high);
    case 'logUniform': {
      const a = Math.log(space.low);
      const b = Math.log(space.high);
      return clamp(roundParam(Math.exp(a + (b - a) * rng.next())), space.low, space.high);
    }
  }
}

function clamp(v: number, low: number, high: number): number {
  return v < low ? low : v > high ? high : v;
}

/** Number of grid configurations (Infinity when a real range has no steps). */
export function gridSize(spaces: readonly NamedSpace[]): number {
  let n = 1;
  for (const s of spaces) {
    const values = gridValues(s.space);
    if (values === null) return Number.POSITIVE_INFINITY;
    n *= values.length;
  }
  return n;
}

/** The cartesian product of the spaces' grid values, the last space varying fastest; [{}] without spaces. */
export function expandGrid(spaces: readonly NamedSpace[]): Array<Record<string, ParamValue>> {
  let out: Array<Record<string, ParamValue>> = [{}];
  for (const s of spaces) {
    const values = gridValues(s.space);
    if (values === null)
      throw new RangeError(`${s.name}: a real range without steps cannot be enumerated by grid search`);
    const next: Array<Record<string, ParamValue>> = [];
    for (const partial of out) for (const v of values) next.push({ ...partial, [s.name]: v });
    out = next;
  }
  return out;
}

/**
 * `trials` distinct configurations drawn from the spaces with a generator seeded by `seed` (draws never depend
 * on anything else). When the spaces are all discrete and hold at most `trials` configurations, that whole
 * grid is returned instead (random search could not find more distinct ones).
 */
export function sampleRandom(
  spaces: readonly NamedSpace[],
  trials: number,
  seed: number,
): Array<Record<string, ParamValue>> {
  if (!(Number.isInteger(trials) && trials >= 1))
    throw new RangeError(`trials must be a positive integer, got ${trials}`);
  if (spaces.length === 0) return [{}];
  if (gridSize(spaces) <= trials) return expandGrid(spaces);
  const rng = new Rng(seed);
  const out: Array<Record<string, ParamValue>> = [];
  const seen = new Set<string>();
  // Distinct draws: with real ranges repeats are practically impossible; with discrete spaces larger than
  // `trials` they end quickly. The cap only guards against pathological spaces.
  for (let attempt = 0; out.length < trials && attempt < trials * 1000; attempt++) {
    const config: Record<string, ParamValue> = {};
    for (const s of spaces) config[s.name] = sampleSpace(s.space, rng);
    const key = JSON.stringify(config);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(config);
  }
  return out;
}
