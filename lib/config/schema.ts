/**
 * The experiment config (`experiments/*.yaml`): its zod schema (structure and types) and the normalised form
 * the search runner works with. Checks that need the model registry, the metric and split grammars, or several
 * fields at once (unknown model, unknown parameter, empty grid, …) live in ./validate.ts; `parseExperimentConfig`
 * (./load.ts) runs both and reports every problem with its field path before any work starts.
 */
import { z } from 'zod';

const scalar = z.union([z.number(), z.string(), z.boolean()], {
  errorMap: () => ({ message: 'expected a number, a string or a boolean' }),
});

const stringOrList = (what: string) =>
  z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    errorMap: () => ({ message: `expected ${what} or a non-empty list of them` }),
  });

export const earlyStoppingSchema = z
  .object({
    metric: z
      .string()
      .min(1)
      .default('validation_rmse')
      .describe('per-epoch metric watched: validation_rmse, train_rmse, loss, or one a model reports'),
    goal: z.enum(['min', 'max']).optional().describe('default: min for *rmse, *mae and loss, else max'),
    patience: z.number().int().min(1).default(3).describe('epochs without improvement before stopping'),
    minDelta: z.number().min(0).default(0).describe('smallest change that counts as an improvement'),
  })
  .strict();

export const modelSpecSchema = z
  .object({
    model: z.string().min(1).describe('registry name (lib/models/registry.ts)'),
    label: z
      .string()
      .min(1)
      .max(80)
      .optional()
      .describe('name on the leaderboard (default: the model name; required when a model appears twice)'),
    description: z.string().optional(),
    params: z
      .record(z.union([scalar, z.array(z.unknown()), z.record(z.unknown())]))
      .default({})
      .describe('fixed hyperparameters (lists/objects for structured params such as ensemble members)'),
    space: z.record(z.unknown()).default({}).describe('searched hyperparameters (see lib/config/spaces.ts)'),
    earlyStopping: z.boolean().default(true).describe('false: never early-stop this model'),
  })
  .strict();

export const referenceSchema = z
  .object({
    label: z.string().min(1),
    metrics: z.record(z.number()),
    source: z.string().optional(),
  })
  .strict();

export const reportSchema = z
  .object({
    title: z.string().optional(),
    /** Per-epoch metrics drawn as learning curves. */
    curves: z.array(z.string().min(1)).optional(),
    significance: z.enum(['paired-t', 'wilcoxon', 'both']).default('both'),
    confidence: z.number().gt(0.5).lt(1).default(0.95),
    bootstrap: z.number().int().min(100).max(100000).default(1000),
    /** Published numbers shown next to the leaderboard (e.g. the Surprise benchmark table). */
    references: z.array(referenceSchema).default([]),
    referencesNote: z.string().optional(),
  })
  .strict();

export const experimentSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-" (it names the report files)')
      .optional()
      .describe('default: the config file name without .yaml'),
    title: z.string().optional(),
    description: z.string().optional(),
    dataset: z.string().min(1),
    seed: z.number().int().min(0).default(42),
    split: stringOrList('a split name').optional(),
    crossValidation: z
      .object({ folds: z.number().int().min(2).max(100) })
      .strict()
      .optional()
      .describe('k-fold cross-validation over the whole dataset (kfold:k:1 … kfold:k:k)'),
    validation: z
      .object({
        split: z.string().min(1).optional().describe('carved from each training part, e.g. random:0.1'),
        folds: z.number().int().min(2).max(100).optional().describe('k-fold inside each training part'),
      })
      .strict()
      .optional(),
    metrics: z.array(z.string().min(1)).min(1, 'give at least one metric'),
    protocol: stringOrList('a protocol (full or sampled:<N>)').optional(),
    relevance: z
      .union([z.number(), z.literal('all')], {
        errorMap: () => ({ message: 'expected a rating threshold (e.g. 4) or "all"' }),
      })
      .optional(),
    select: z
      .union(
        [
          z.string().min(1),
          z.object({ metric: z.string().min(1), goal: z.enum(['min', 'max']).optional() }).strict(),
        ],
        { errorMap: () => ({ message: 'expected a metric name or {metric, goal}' }) },
      )
      .optional(),
    search: z
      .object({
        strategy: z.enum(['grid', 'random']).default('grid'),
        trials: z
          .number()
          .int()
          .min(1)
          .max(100000)
          .optional()
          .describe('random search: configurations per model'),
        parallel: z
          .number()
          .int()
          .min(1)
          .max(256)
          .optional()
          .describe('trials at once (default: one per core)'),
      })
      .strict()
      .default({}),
    executor: z
      .union([
        z.enum(['threads', 'processes', 'ray']),
        z
          .object({
            kind: z.enum(['threads', 'processes', 'ray']),
            address: z.string().min(1).optional().describe('ray: the cluster address host:port'),
          })
          .strict(),
      ])
      .optional()
      .describe('where trials run: worker threads (default), child processes, or a Ray cluster'),
    earlyStopping: z.union([earlyStoppingSchema, z.literal(false)]).optional(),
    models: z.array(modelSpecSchema).min(1, 'give at least one model'),
    mlflow: z
      .object({ experiment: z.string().min(1).optional() })
      .strict()
      .default({}),
    register: z
      .object({
        name: z.string().min(1).describe('MLflow registered model name (a new version per experiment run)'),
        alias: z.string().min(1).optional().describe('alias pointed at the new version, e.g. champion'),
      })
      .strict()
      .optional()
      .describe(
        "after the search, train the best configuration on the first split's training part and register it",
      ),
    report: reportSchema.default({}),
  })
  .strict();

/** What a config may contain, as written (YAML or an object in a notebook): use it for completion. */
export type ExperimentConfigInput = z.input<typeof experimentSchema>;
/** The schema's direct output (before normalisation). */
export type ExperimentConfigOutput = z.output<typeof experimentSchema>;

import type { ParamValue } from '../util/params-text';

export type { ParamValue };
/** A fixed param as written: a scalar, or a list / object for structured params (e.g. ensemble members). */
export type ParamInput = ParamValue | unknown[] | { [key: string]: unknown };

export interface EarlyStoppingConfig {
  metric: string;
  goal: 'min' | 'max';
  patience: number;
  minDelta: number;
}

export interface ModelConfig {
  model: string;
  label: string;
  description: string | null;
  params: Record<string, ParamInput>;
  /** Raw space specs, by parameter, in config order (parsed by lib/config/spaces.ts). */
  space: Record<string, unknown>;
  earlyStopping: boolean;
}

export interface ReferenceResult {
  label: string;
  metrics: Record<string, number>;
  source: string | null;
}

export interface ReportConfig {
  title: string;
  curves: string[] | null;
  significance: 'paired-t' | 'wilcoxon' | 'both';
  confidence: number;
  bootstrap: number;
  references: ReferenceResult[];
  referencesNote: string | null;
}

/**
 * A validated experiment, normalised: splits listed, metric names canonical, defaults filled in. Declared
 * explicitly (not inferred from zod) so that it reads the same under tslab's non-strict checker.
 */
/** Where a search's trials run: worker threads, child processes, or tasks on a Ray cluster at `address`. */
export interface ExecutorConfig {
  kind: 'threads' | 'processes' | 'ray';
  /** Ray cluster address (host:port); null: the executor's default (RAY_ADDRESS, else a local cluster). */
  address: string | null;
}

export interface ExperimentConfig {
  name: string;
  title: string;
  description: string | null;
  dataset: string;
  seed: number;
  /** Outer splits (test folds): GroupLens folds, computed splits, or kfold:k:1…k from crossValidation. */
  splits: string[];
  /** How the splits were given, for the report: "split" or "crossValidation". */
  splitKind: 'split' | 'crossValidation';
  /** Validation parts carved from each training part (null: trials are evaluated on the test fold). */
  validation: string[] | null;
  /** Canonical metric names (lib/eval/names). */
  metrics: string[];
  /** Ranking protocols (empty when only rating metrics are asked for). */
  protocols: string[];
  relevance: number | null;
  select: { metric: string; goal: 'min' | 'max' };
  search: { strategy: 'grid' | 'random'; trials: number | null; parallel: number | null };
  /** Where trials run (the CLI's --executor / --ray-address override it). */
  executor: ExecutorConfig;
  earlyStopping: EarlyStoppingConfig | null;
  models: ModelConfig[];
  mlflow: { experiment: string };
  /** Register the best configuration, trained on the first split, as a Model Registry version (null: don't). */
  register: { name: string; alias: string | null } | null;
  report: ReportConfig;
}
