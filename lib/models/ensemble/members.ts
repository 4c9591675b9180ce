import { ConfigError, ReelabError } from '../../util/errors';
import type { Recommender } from '../recommender';

/** One ensemble member: a registry model name, its hyperparameters and an optional display label. */
export interface MemberSpec {
  model: string;
  params?: Record<string, unknown>;
  label?: string;
}

/** A member after validation: its params as given and a unique label. */
export interface ResolvedMember {
  model: string;
  params: Record<string, unknown>;
  label: string;
  /** 'rating' or 'ranking', from the registry. */
  task: 'rating' | 'ranking';
}

/** What the ensemble needs from the registry (passed in, because the registry itself imports the ensemble). */
export interface MemberFactory {
  create(name: string, params: Record<string, unknown>): Recommender;
  task(name: string): 'rating' | 'ranking';
}

const NESTED = new Set(['ensemble', 'ensemble-ranking']);

/**
 * Parses the `members` parameter (JSON text of a list of {model, params, label}) and validates every member's
 * params against its own schema, so a bad member fails when the ensemble is configured, not halfway through a
 * fit. Errors name the member: `members[2] (svd): factors: …`.
 */
export function parseMembers(
  json: string,
  mode: 'rating' | 'ranking',
  factory: MemberFactory,
): ResolvedMember[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new ConfigError('members', `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ConfigError('members', 'expected a non-empty list of {"model": name, "params": {...}}');
  const labels = new Set<string>();
  return parsed.map((raw, i) => {
    const o = raw as Partial<MemberSpec> | null;
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      throw new ConfigError(`members[${i}]`, 'expected an object {"model": name, "params": {...}}');
    const unknown = Object.keys(o).filter((k) => k !== 'model' && k !== 'params' && k !== 'label');
    if (unknown.length > 0)
      throw new ConfigError(
        `members[${i}]`,
        `unknown keys ${unknown.join(', ')} (allowed: model, params, label)`,
      );
    if (typeof o.model !== 'string' || o.model === '')
      throw new ConfigError(`members[${i}].model`, 'expected a registry model name');
    if (NESTED.has(o.model))
      throw new ConfigError(`members[${i}].model`, `an ensemble cannot be a member of an ensemble`);
    if (
      o.params !== undefined &&
      (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params))
    )
      throw new ConfigError(`members[${i}].params`, 'expected an object of hyperparameters');
    if (o.label !== undefined && (typeof o.label !== 'string' || o.label === ''))
      throw new ConfigError(`members[${i}].label`, 'expected a non-empty string');
    let task: 'rating' | 'ranking';
    try {
      task = factory.task(o.model);
    } catch (err) {
      throw new ConfigError(`members[${i}].model`, (err as Error).message);
    }
    if (mode === 'rating' && task !== 'rating')
      throw new ConfigError(
        `members[${i}].model`,
        `${o.model} is a ranking model (its scores are not ratings); blend it with "ensemble-ranking"`,
      );
    const params: Record<string, unknown> = { ...(o.params ?? {}) };
    try {
      factory.create(o.model, params);
    } catch (err) {
      if (err instanceof ReelabError)
        throw new ConfigError(`members[${i}] (${o.model})`, (err as Error).message);
      throw err;
    }
    let label = o.label ?? o.model;
    if (labels.has(label)) {
      let n = 2;
      while (labels.has(`${label}#${n}`)) n++;
      label = `${label}#${n}`;
    }
    labels.add(label);
    return { model: o.model, params, label, task };
  });
}
