import { z } from 'zod';
import { ConfigError } from '../util/errors';
import { BaselineModel, baselineSchema } from './baseline';
import type { Recommender } from './recommender';

export type ModelTask = 'rating' | 'ranking';

export interface ModelEntry {
  name: string;
  description: string;
  /** 'rating' models predict ratings (RMSE makes sense); 'ranking' models only order items. */
  task: ModelTask;
  schema: z.ZodObject<z.ZodRawShape>;
  create(params: Record<string, unknown>): Recommender;
}

function entry<S extends z.ZodObject<z.ZodRawShape>>(
  name: string,
  description: string,
  task: ModelTask,
  schema: S,
  make: (params: z.infer<S>) => Recommender,
): ModelEntry {
  return { name, description, task, schema, create: (params) => make(schema.parse(params)) };
}

const ENTRIES: ModelEntry[] = [
  entry(
    'baseline',
    'global mean + regularised user/item biases (Surprise BaselineOnly)',
    'rating',
    baselineSchema,
    (p) => new BaselineModel(p),
  ),
];

export const MODELS: ReadonlyMap<string, ModelEntry> = new Map(ENTRIES.map((e) => [e.name, e]));

export function modelEntry(name: string): ModelEntry {
  const e = MODELS.get(name);
  if (!e)
    throw new ConfigError('model', `unknown model "${name}"; available: ${[...MODELS.keys()].join(', ')}`);
  return e;
}

/** Validates `params` against the model's schema and builds it; errors name the parameter and what is allowed. */
export function createModel(name: string, params: Record<string, unknown> = {}): Recommender {
  const e = modelEntry(name);
  const result = e.schema.safeParse(params);
  if (!result.success) throw new ConfigError(`model ${name}`, formatZodIssues(result.error, e.schema));
  return e.create(result.data);
}

/** Turns `key=value` strings (CLI --set) into typed params following the model's schema. */
export function parseSetArguments(name: string, sets: string[]): Record<string, unknown> {
  const e = modelEntry(name);
  const shape = e.schema.shape;
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError('--set', `expected key=value, got "${s}"`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    const field = shape[key];
    if (!field) {
      throw new ConfigError(
        `--set ${key}`,
        `model ${name} has no parameter "${key}"; parameters: ${Object.keys(shape).join(', ')}`,
      );
    }
    out[key] = coerce(raw, field);
  }
  return out;
}

function baseType(t: z.ZodTypeAny): z.ZodTypeAny {
  let cur = t;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) {
    cur = cur instanceof z.ZodDefault ? cur._def.innerType : cur.unwrap();
  }
  return cur;
}

function coerce(raw: string, field: z.ZodTypeAny): unknown {
  const t = baseType(field);
  if (t instanceof z.ZodNumber) return raw.trim() === '' ? Number.NaN : Number(raw);
  if (t instanceof z.ZodBoolean) return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

export function formatZodIssues(error: z.ZodError, schema?: z.ZodObject<z.ZodRawShape>): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.') || '(root)';
      let msg = `${path}: ${issue.message}`;
      if (issue.code === 'unrecognized_keys' && schema)
        msg += ` (parameters: ${Object.keys(schema.shape).join(', ')})`;
      return msg;
    })
    .join('; ');
}
