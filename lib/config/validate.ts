/**
 * Checks of an experiment config that need more than its shape: the model registry (models, their parameters
 * and the values a search space can take, checked against each model's own zod schema), the metric, protocol,
 * dataset and split grammars, and rules between fields. Every problem is collected with its field path, so one
 * run of `reelab search` lists them all before any data is loaded.
 */
import { ZodError, type z } from 'zod';
import { parseDatasetName } from '../data/load';
import { parseSplitSpec } from '../data/split';
import { type MetricSpec, parseMetric } from '../eval/names';
import { DEFAULT_RELEVANCE, parseProtocol, protocolLabel } from '../eval/protocols';
import { MODELS, type ModelEntry } from '../models/registry';
import { checkRegistration } from '../tracking/registry';
import { ConfigError } from '../util/errors';
import {
  defaultGoal,
  epochParamOf,
  LOCAL_PARAMS,
  modelNames,
  paramNames,
  RATING_EPOCH_METRICS,
} from './models';
import type {
  ExecutorConfig,
  ExperimentConfig,
  ExperimentConfigOutput,
  ModelConfig,
  ParamInput,
  ParamValue,
} from './schema';
import { expandGrid, gridSize, type NamedSpace, parseSpace, probeValues, sampleRandom } from './spaces';

export type ConfigPath = Array<string | number>;

export interface ConfigIssue {
  path: ConfigPath;
  message: string;
}

/** `['models', 1, 'space', 'factors']` → `models[1].space.factors`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

/** Configurations above this many per model are refused (a typo in a space, not a search). */
export const MAX_CONFIGURATIONS = 5000;

const GRID_HINT = 'give steps: n, a list of values, or use search.strategy: random';

function reasonOf(err: unknown): string {
  if (err instanceof ZodError)
    return err.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
  return err instanceof ConfigError ? err.reason : err instanceof Error ? err.message : String(err);
}

/** Normalises a structurally valid config; problems go to `issues` (the result is meaningless if any). */
export function checkExperiment(
  raw: ExperimentConfigOutput,
  defaults: { name?: string },
  issues: ConfigIssue[],
): ExperimentConfig {
  const add = (path: ConfigPath, message: string) => issues.push({ path, message });
  const name = raw.name ?? defaults.name ?? '';
  if (!name)
    add(['name'], 'give the experiment a name (it names the report files and the MLflow experiment)');

  try {
    parseDatasetName(raw.dataset);
  } catch (err) {
    add(['dataset'], reasonOf(err));
  }

  // ---- splits ----
  let splits: string[] = [];
  let splitKind: ExperimentConfig['splitKind'] = 'split';
  if (raw.split !== undefined && raw.crossValidation !== undefined)
    add(['crossValidation'], 'give either split or crossValidation, not both');
  else if (raw.split === undefined && raw.crossValidation === undefined)
    add(
      ['split'],
      'give the test split(s) (e.g. split: u1, or split: [u1, u2, u3, u4, u5]) or crossValidation: {folds: 5}',
    );
  if (raw.crossValidation) {
    splitKind = 'crossValidation';
    const k = raw.crossValidation.folds;
    splits = Array.from({ length: k }, (_, f) => `kfold:${k}:${f + 1}`);
  } else if (raw.split !== undefined) {
    const list = typeof raw.split === 'string' ? [raw.split] : raw.split;
    const path = (i: number): ConfigPath => (typeof raw.split === 'string' ? ['split'] : ['split', i]);
    list.forEach((s, i) => {
      try {
        const spec = parseSplitSpec(s);
        if (spec.kind === 'grouplens' && raw.dataset !== 'ml-100k')
          add(path(i), `the GroupLens fold ${s} exists only for ml-100k (dataset is ${raw.dataset})`);
      } catch (err) {
        add(path(i), reasonOf(err));
      }
      if (list.indexOf(s) !== i) add(path(i), `split ${s} is listed twice`);
    });
    splits = list.slice();
  }

  // ---- validation ----
  let validation: string[] | null = null;
  if (raw.validation) {
    const v = raw.validation;
    if ((v.split === undefined) === (v.folds === undefined))
      add(['validation'], 'give either split (e.g. random:0.1) or folds (k-fold inside each training part)');
    else if (v.split !== undefined) {
      try {
        const spec = parseSplitSpec(v.split);
        if (spec.kind === 'grouplens')
          add(
            ['validation', 'split'],
            `a GroupLens fold (${v.split}) cannot be carved out of a training part; allowed: ${nonGroupLens()}`,
          );
        else validation = [v.split];
      } catch (err) {
        add(['validation', 'split'], reasonOf(err));
      }
    } else {
      const k = v.folds!;
      validation = Array.from({ length: k }, (_, f) => `kfold:${k}:${f + 1}`);
    }
  }

  // ---- metrics and protocols ----
  const specs: MetricSpec[] = [];
  raw.metrics.forEach((m, i) => {
    try {
      const spec = parseMetric(m);
      if (specs.some((s) => s.name === spec.name)) add(['metrics', i], `${spec.name} is listed twice`);
      else specs.push(spec);
    } catch (err) {
      add(['metrics', i], reasonOf(err));
    }
  });
  const ratingSpecs = specs.filter((s) => s.family === 'rating');
  const rankingSpecs = specs.filter((s) => s.family !== 'rating');
  let protocols: string[] = [];
  if (rankingSpecs.length > 0) {
    const given =
      raw.protocol === undefined
        ? ['full']
        : typeof raw.protocol === 'string'
          ? [raw.protocol]
          : raw.protocol;
    given.forEach((p, i) => {
      const path: ConfigPath =
        typeof raw.protocol === 'string' || raw.protocol === undefined ? ['protocol'] : ['protocol', i];
      try {
        const label = protocolLabel(parseProtocol(p));
        if (protocols.includes(label)) add(path, `protocol ${label} is listed twice`);
        else protocols.push(label);
      } catch (err) {
        add(path, reasonOf(err));
      }
    });
    const beyond = rankingSpecs.filter((s) => s.family === 'beyond');
    if (beyond.length > 0 && protocols.length > 0 && !protocols.includes('full'))
      add(
        ['protocol'],
        `${beyond.map((s) => s.name).join(', ')} describe whole recommendation lists and need the full protocol`,
      );
  } else if (raw.protocol !== undefined) {
    add(['protocol'], 'protocols rank items; give ranking metrics (e.g. ndcg@10) or leave protocol out');
    protocols = [];
  }
  const relevance =
    raw.relevance === undefined ? DEFAULT_RELEVANCE : raw.relevance === 'all' ? null : raw.relevance;
  if (relevance !== null && !Number.isFinite(relevance))
    add(['relevance'], 'must be a finite rating or "all"');

  // ---- selection ----
  const selectRaw =
    raw.select === undefined ? null : typeof raw.select === 'string' ? { metric: raw.select } : raw.select;
  let selectMetric = specs[0]?.name ?? '';
  if (selectRaw) {
    try {
      const spec = parseMetric(selectRaw.metric);
      if (!specs.some((s) => s.name === spec.name))
        add(
          typeof raw.select === 'string' ? ['select'] : ['select', 'metric'],
          `${spec.name} is not among the metrics; allowed: ${specs.map((s) => s.name).join(', ')}`,
        );
      selectMetric = spec.name;
    } catch (err) {
      add(typeof raw.select === 'string' ? ['select'] : ['select', 'metric'], reasonOf(err));
    }
  }
  const selectGoal =
    (selectRaw && 'goal' in selectRaw ? selectRaw.goal : undefined) ?? defaultGoal(selectMetric);
  const selectIsRating = ratingSpecs.some((s) => s.name === selectMetric);

  // ---- search ----
  const strategy = raw.search.strategy;
  const trials = raw.search.trials ?? null;
  if (strategy === 'grid' && trials !== null)
    add(['search', 'trials'], 'trials is for random search; grid search tries every configuration');

  // ---- early stopping ----
  const es = raw.earlyStopping ? raw.earlyStopping : null;
  if (es && validation === null)
    add(
      ['earlyStopping'],
      'early stopping watches a validation part: add validation: {split: random:0.1} (or folds: k), never the test split',
    );

  // ---- models ----
  const labels = new Map<string, number>();
  const models: ModelConfig[] = [];
  const needsTrials = { value: false };
  raw.models.forEach((m, i) => {
    const base: ConfigPath = ['models', i];
    const entry = MODELS.get(m.model);
    const label = m.label ?? m.model;
    const previous = labels.get(label);
    if (previous !== undefined)
      add(
        [...base, m.label === undefined ? 'model' : 'label'],
        `label "${label}" is already used by models[${previous}]; give each entry a distinct label`,
      );
    else labels.set(label, i);
    const space = m.space ?? {};
    models.push({
      model: m.model,
      label,
      description: m.description ?? null,
      params: m.params ?? {},
      space,
      earlyStopping: m.earlyStopping,
    });
    if (!entry) {
      add([...base, 'model'], `unknown model "${m.model}"; allowed: ${modelNames().join(', ')}`);
      return;
    }
    if (entry.task === 'ranking') {
      if (rankingSpecs.length === 0 && specs.length > 0)
        add(
          [...base, 'model'],
          `${m.model} is a ranking model (its scores are not ratings), so ${ratingSpecs.map((s) => s.name).join(', ')} ` +
            'cannot score it; add ranking metrics such as ndcg@10',
        );
      else if (selectIsRating)
        add(
          [...base, 'model'],
          `select: ${selectMetric} needs predicted ratings, but ${m.model} is a ranking model; select on a ranking metric`,
        );
    }
    checkParams(entry, m.params ?? {}, space, [...base], add);
    const named = checkSpace(entry, m.params ?? {}, space, strategy, base, add);
    if (named && named.length > 0) {
      if (strategy === 'random') needsTrials.value = true;
      else {
        const size = gridSize(named);
        if (size > MAX_CONFIGURATIONS)
          add(
            [...base, 'space'],
            `the grid holds ${size} configurations (more than ${MAX_CONFIGURATIONS}); narrow it`,
          );
      }
    }
    const epochParam = epochParamOf(entry);
    if (es && m.earlyStopping && epochParam !== null) {
      if (RATING_EPOCH_METRICS.includes(es.metric) && entry.task !== 'rating')
        add(
          [...base, 'model'],
          `earlyStopping.metric ${es.metric} is reported by rating models only and ${m.model} is a ranking model; ` +
            'add earlyStopping: false to this model or watch loss',
        );
    }
  });
  if (needsTrials.value && trials === null)
    add(['search', 'trials'], 'random search needs the number of configurations per model: trials: N');

  // ---- registration of the best configuration ----
  if (raw.register) {
    const { name: modelName, alias } = raw.register;
    try {
      checkRegistration(modelName);
    } catch (err) {
      add(['register', 'name'], reasonOf(err));
    }
    if (alias !== undefined)
      try {
        checkRegistration('x', alias);
      } catch (err) {
        add(['register', 'alias'], reasonOf(err));
      }
  }

  return {
    name,
    title: raw.title ?? raw.report.title ?? name,
    description: raw.description ?? null,
    dataset: raw.dataset,
    seed: raw.seed,
    splits,
    splitKind,
    validation,
    metrics: specs.map((s) => s.name),
    protocols,
    relevance,
    select: { metric: selectMetric, goal: selectGoal },
    search: { strategy, trials, parallel: raw.search.parallel ?? null },
    executor: executorConfig(raw.executor),
    earlyStopping: es
      ? {
          metric: es.metric,
          goal: es.goal ?? defaultGoal(es.metric),
          patience: es.patience,
          minDelta: es.minDelta,
        }
      : null,
    models,
    mlflow: { experiment: raw.mlflow.experiment ?? `reelab-${name}` },
    register: raw.register ? { name: raw.register.name, alias: raw.register.alias ?? null } : null,
    report: {
      title: raw.report.title ?? raw.title ?? name,
      curves: raw.report.curves ?? null,
      significance: raw.report.significance,
      confidence: raw.report.confidence,
      bootstrap: raw.report.bootstrap,
      references: raw.report.references.map((r) => ({
        label: r.label,
        metrics: r.metrics,
        source: r.source ?? null,
      })),
      referencesNote: raw.report.referencesNote ?? null,
    },
  };
}

function nonGroupLens(): string {
  return 'random:<f>, kfold:<k>:<fold>, temporal-user:<f>, temporal-user-last:<n>, leave-last-out, global-time:<date>';
}

/** Fixed params: known names, valid values (the model's own schema), nothing both fixed and searched. */
function checkParams(
  entry: ModelEntry,
  params: Record<string, ParamInput>,
  space: Record<string, unknown>,
  base: ConfigPath,
  add: (path: ConfigPath, message: string) => void,
): void {
  const shape = entry.schema.shape;
  for (const key of Object.keys(params)) {
    if (LOCAL_PARAMS.includes(key))
      add(
        [...base, 'params', key],
        'name the data folder with --data-dir or REELAB_DATA_DIR, not in the config',
      );
    else if (!(key in shape))
      add(
        [...base, 'params', key],
        `model ${entry.name} has no parameter "${key}"; parameters: ${paramNames(entry).join(', ')}`,
      );
    if (key in space)
      add([...base, 'space', key], `"${key}" is both fixed (params) and searched (space); keep one`);
  }
  const known = Object.fromEntries(Object.entries(params).filter(([k]) => k in shape));
  const result = entry.schema.safeParse(known);
  if (!result.success)
    for (const issue of result.error.issues) add([...base, 'params', ...issue.path], issueText(issue));
  else tryCreate(entry, known, [...base, 'params'], add);
}

/** Parses the space specs and checks that every value they can produce is valid for the model. */
function checkSpace(
  entry: ModelEntry,
  params: Record<string, ParamInput>,
  space: Record<string, unknown>,
  strategy: 'grid' | 'random',
  base: ConfigPath,
  add: (path: ConfigPath, message: string) => void,
): NamedSpace[] | null {
  const shape = entry.schema.shape;
  const named: NamedSpace[] = [];
  let ok = true;
  for (const [key, spec] of Object.entries(space)) {
    const path: ConfigPath = [...base, 'space', key];
    if (LOCAL_PARAMS.includes(key) || !(key in shape)) {
      add(path, `model ${entry.name} has no parameter "${key}"; parameters: ${paramNames(entry).join(', ')}`);
      ok = false;
      continue;
    }
    const parsed = parseSpace(spec);
    for (const p of parsed.problems) add([...path, ...p.path], p.message);
    if (!parsed.space) {
      ok = false;
      continue;
    }
    if (
      strategy === 'grid' &&
      parsed.space.kind !== 'choice' &&
      parsed.space.kind !== 'int' &&
      parsed.space.steps === null
    ) {
      add(path, `a real range cannot be enumerated by grid search; ${GRID_HINT}`);
      ok = false;
      continue;
    }
    const validParams = Object.fromEntries(Object.entries(params).filter(([k]) => k in shape));
    for (const value of probeValues(parsed.space)) {
      const result = entry.schema.safeParse({ ...validParams, [key]: value });
      if (!result.success) {
        const mine = result.error.issues.filter((iss) => iss.path[0] === key);
        if (mine.length > 0) {
          const hint =
            parsed.space.kind === 'uniform' || parsed.space.kind === 'logUniform'
              ? mine.some((iss) => iss.code === 'invalid_type' && iss.expected === 'integer')
                ? ' (an integer parameter: use {int: [low, high]})'
                : ''
              : '';
          add(
            path,
            `value ${JSON.stringify(value)} is not allowed: ${mine.map(issueText).join('; ')}${hint}`,
          );
          ok = false;
          break;
        }
      }
    }
    named.push({ name: key, space: parsed.space });
  }
  if (!ok) return null;
  // Whole configurations: a model may reject combinations (e.g. its constructor checks one value against
  // another); try a few of them so such a config fails now, not hours into the search.
  const sample = strategy === 'grid' && gridSize(named) <= 64 ? expandGrid(named) : sampleRandom(named, 8, 1);
  for (const config of sample) {
    const merged = { ...Object.fromEntries(Object.entries(params).filter(([k]) => k in shape)), ...config };
    if (!tryCreate(entry, merged, [...base, 'space'], add, config)) break;
  }
  return named;
}

function tryCreate(
  entry: ModelEntry,
  params: Record<string, unknown>,
  path: ConfigPath,
  add: (path: ConfigPath, message: string) => void,
  searched?: Record<string, ParamValue>,
): boolean {
  try {
    entry.create(params);
    return true;
  } catch (err) {
    const where = searched ? ` (searched values ${JSON.stringify(searched)})` : '';
    add(path, `${entry.name} rejects these parameters${where}: ${reasonOf(err)}`);
    return false;
  }
}

function issueText(issue: z.ZodIssue): string {
  return issue.message;
}

function executorConfig(raw: ExperimentConfigOutput['executor']): ExecutorConfig {
  if (raw === undefined) return { kind: 'threads', address: null };
  if (typeof raw === 'string') return { kind: raw, address: null };
  if (raw.address !== undefined && raw.kind !== 'ray')
    throw new ConfigError('executor.address', `only a ray executor has an address (kind is ${raw.kind})`);
  return { kind: raw.kind, address: raw.address ?? null };
}
