import { z } from 'zod';
import type { SideInput } from '../data/side-information';
import { ConfigError } from '../util/errors';
import { AlsGenreModel, alsGenreSchema } from './als-genre';
import { BaselineModel, baselineSchema } from './baseline';
import { BprModel, bprSchema } from './bpr';
import { ContentModel, contentSchema } from './content';
import { EaseModel, easeSchema } from './ease';
import { EnsembleModel, ensembleRankingSchema, ensembleSchema } from './ensemble';
import { GbdtModel, gbdtSchema } from './gbdt';
import { GlobalMeanModel, globalMeanSchema } from './global-mean';
import { HybridNnModel, hybridNnSchema } from './hybrid-nn';
import { IalsModel, ialsSchema } from './ials';
import { ItemKnnModel, itemKnnSchema } from './item-knn';
import { KnnModel, knnSchema } from './knn';
import { LmfModel, lmfSchema } from './lmf';
import { NeumfModel, neumfSchema } from './neumf';
import { PopularityModel, popularitySchema } from './popularity';
import { PureSvdModel, pureSvdSchema } from './pure-svd';
import { RandomModel, randomSchema } from './random';
import type { Recommender } from './recommender';
import { Rp3betaModel, rp3betaSchema } from './rp3beta';
import { SlimModel, slimSchema } from './slim';
import { SvdModel, svdSchema } from './svd';
import { SvdppModel, svdppSchema } from './svdpp';

export type ModelTask = 'rating' | 'ranking';

/** What each model's fit needs besides the ratings (ensembles: see lib/models/side-inputs.ts). */
const SIDE_INPUTS: Readonly<Record<string, readonly SideInput[]>> = {
  'als-genre': ['catalogue'],
  gbdt: ['catalogue'],
  'hybrid-nn': ['catalogue'],
  content: ['catalogue', 'genome'],
  ensemble: ['catalogue'],
  'ensemble-ranking': ['catalogue'],
};

export interface ModelEntry {
  /** The canonical registry name (what a created model reports as its `name`). */
  name: string;
  description: string;
  /** 'rating' models predict ratings (RMSE makes sense); 'ranking' models only order items. */
  task: ModelTask;
  /**
   * The model's hyperparameter schema seen through its parameter aliases (`paramAliases`): `key in
   * schema.shape` and `schema.parse` accept every alias spelling and give canonical keys; `Object.keys(shape)`
   * lists the canonical names only.
   */
  schema: z.ZodObject<z.ZodRawShape>;
  /** Other spellings of this model's parameters → the canonical key (see PARAM_SPELLINGS). */
  paramAliases: ReadonlyMap<string, string>;
  /** Side information its fit needs (see SideInput); none when absent. */
  needs?: readonly SideInput[];
  create(params: Record<string, unknown>): Recommender;
}

function entry<S extends z.ZodObject<z.ZodRawShape>>(
  name: string,
  description: string,
  task: ModelTask,
  schema: S,
  make: (params: z.infer<S>) => Recommender,
): ModelEntry {
  const paramAliases = paramAliasesFor(name, schema);
  const aliased = withParamAliases(name, schema, paramAliases);
  return {
    name,
    description,
    task,
    schema: aliased,
    paramAliases,
    needs: SIDE_INPUTS[name],
    create: (params) => make(aliased.parse(params) as z.infer<S>),
  };
}

// ---- names: model aliases and one spelling per hyperparameter ----

/**
 * Earlier registry names → canonical names. The two k-NN families differ in what they do, so their names say
 * it: `knn-rating-*` predict ratings (Surprise's KNNBasic / KNNWithMeans / KNNBaseline), `knn-topn-item` ranks
 * items from implicit interactions (implicit's ItemItemRecommender); the last part is the neighbour side.
 * `createModel`, `modelEntry` and `MODELS.get` accept both; a created model reports the canonical name.
 */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  'knn-item': 'knn-rating-item',
  'knn-user': 'knn-rating-user',
  'item-knn': 'knn-topn-item',
};

/** The canonical registry name of `name` (an alias or already canonical; unknown names come back as given). */
export function canonicalModelName(name: string): string {
  return MODEL_ALIASES[name] ?? name;
}

/**
 * One row per hyperparameter concept: reelab's canonical spelling first, then the other spellings in use
 * (Surprise's, implicit's, XGBoost's, earlier reelab ones). For each model, the spelling of the row its schema
 * uses is that model's canonical key and every other spelling of the row is an alias of it (a spelling that is
 * itself one of the model's keys never is). A model whose key is not the row's first spelling is a pending
 * rename (`pendingParamRenames`). `only` / `except` limit a row to some models, where a spelling means
 * something else elsewhere (bpr's `negatives` names the sampler, not a count).
 */
export const PARAM_SPELLINGS: ReadonlyArray<{
  spellings: readonly string[];
  only?: readonly string[];
  except?: readonly string[];
}> = [
  { spellings: ['factors', 'n_factors', 'nFactors', 'num_factors'] },
  { spellings: ['epochs', 'n_epochs', 'nEpochs', 'num_epochs', 'iterations'] },
  {
    spellings: [
      'reg',
      'regularization',
      'regularisation',
      'lambda',
      'lambda_',
      'reg_lambda',
      'regAll',
      'reg_all',
    ],
  },
  { spellings: ['learningRate', 'learning_rate', 'lr', 'lrAll', 'lr_all', 'eta'] },
  { spellings: ['initStd', 'init_std_dev', 'initStdDev', 'init_std', 'embeddingStd'] },
  { spellings: ['initMean', 'init_mean'] },
  { spellings: ['seed', 'random_state', 'randomState', 'random_seed'] },
  { spellings: ['threshold', 'positiveThreshold'] },
  { spellings: ['negatives', 'negProp', 'neg_prop', 'num_negatives'], except: ['bpr'] },
  // BPR's negative sampler was called `negatives` before `negatives` meant a count everywhere.
  { spellings: ['sampler', 'negatives'], only: ['bpr'] },
  { spellings: ['k', 'K'] },
  { spellings: ['minK', 'min_k'] },
  { spellings: ['minSupport', 'min_support'] },
  { spellings: ['regUser', 'reg_u'] },
  { spellings: ['regItem', 'reg_i'] },
  ...['bu', 'bi', 'pu', 'qi', 'yj'].flatMap((t) => [
    { spellings: [`lr${t[0]!.toUpperCase()}${t[1]}`, `lr_${t}`] },
    { spellings: [`reg${t[0]!.toUpperCase()}${t[1]}`, `reg_${t}`] },
  ]),
  { spellings: ['powerIterations', 'n_iter'], only: ['pure-svd'] },
  { spellings: ['oversamples', 'n_oversamples'] },
  { spellings: ['cgSteps', 'cg_steps'] },
  { spellings: ['computeLoss', 'calculate_training_loss'] },
  { spellings: ['verifyNegative', 'verify_negative_samples'] },
  { spellings: ['K1', 'k1'] },
  { spellings: ['B', 'b'] },
  { spellings: ['batchSize', 'batch_size'] },
  { spellings: ['weightDecay', 'weight_decay'] },
  { spellings: ['rounds', 'n_estimators', 'num_boost_round'] },
  { spellings: ['maxDepth', 'max_depth'] },
  { spellings: ['minChildWeight', 'min_child_weight'] },
  { spellings: ['colsample', 'colsample_bytree'] },
  { spellings: ['maxBins', 'max_bin'] },
];

function rowsFor(model: string) {
  return PARAM_SPELLINGS.filter((r) => (!r.only || r.only.includes(model)) && !r.except?.includes(model));
}

/** alias → canonical key for one model's schema (throws when a row names two of the model's own keys). */
function paramAliasesFor(model: string, schema: z.ZodObject<z.ZodRawShape>): Map<string, string> {
  const keys = new Set(Object.keys(schema.shape));
  const out = new Map<string, string>();
  for (const row of rowsFor(model)) {
    const own = row.spellings.filter((s) => keys.has(s));
    if (own.length > 1)
      throw new Error(`registry: model ${model} has ${own.join(' and ')}, spellings of one parameter`);
    if (own.length === 0) continue;
    for (const s of row.spellings) if (!keys.has(s) && !out.has(s)) out.set(s, own[0]!);
  }
  return out;
}

/**
 * Where a model's schema key is not the canonical spelling of its concept: renames still to do (in model
 * files owned elsewhere, or keys pinned by tests and committed reports), as `model: key → canonical`.
 */
export function pendingParamRenames(): string[] {
  const out: string[] = [];
  for (const e of MODELS.values()) {
    const keys = Object.keys(e.schema.shape);
    for (const row of rowsFor(e.name)) {
      const key = row.spellings.find((s) => keys.includes(s));
      if (key !== undefined && key !== row.spellings[0]) out.push(`${e.name}: ${key} → ${row.spellings[0]}`);
    }
  }
  return out;
}

interface Renamed {
  params: Record<string, unknown>;
  /** Two spellings of one parameter were given: the canonical key and what to say. */
  conflict: { key: string; message: string } | null;
}

/** Alias keys renamed to canonical ones; undefined values count as not given. */
function renameParams(params: Record<string, unknown>, aliases: ReadonlyMap<string, string>): Renamed {
  const out: Record<string, unknown> = {};
  const givenAs = new Map<string, string>();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const canonical = aliases.get(key) ?? key;
    const other = givenAs.get(canonical);
    if (other !== undefined) {
      const both = [other, key].map((k) => `"${k}"`).join(' and ');
      const message = `${both} are spellings of one parameter ("${canonical}"); give it once`;
      return { params: out, conflict: { key: canonical, message } };
    }
    givenAs.set(canonical, key);
    out[canonical] = value;
  }
  return { params: out, conflict: null };
}

/**
 * Params with every alias spelling replaced by the model's canonical key (`name` may itself be an alias);
 * a ConfigError when two spellings of one parameter are both given.
 */
export function canonicalParams(name: string, params: Record<string, unknown>): Record<string, unknown> {
  const e = modelEntry(name);
  const r = renameParams(params, e.paramAliases);
  if (r.conflict) throw new ConfigError(`model ${e.name}`, r.conflict.message);
  return r.params;
}

/**
 * The schema with its aliases applied before validation. A ZodObject still (callers read `.shape`), whose
 * `shape` answers `in` and lookups for alias spellings too but lists only the canonical keys, and whose parse
 * renames alias keys first (two spellings of one parameter: a validation issue at the canonical key).
 */
function withParamAliases(
  model: string,
  schema: z.ZodObject<z.ZodRawShape>,
  aliases: ReadonlyMap<string, string>,
): z.ZodObject<z.ZodRawShape> {
  if (aliases.size === 0) return schema;
  const shape = new Proxy(schema.shape, {
    has: (target, key) => key in target || (typeof key === 'string' && aliases.has(key)),
    get: (target, key, receiver) =>
      typeof key === 'string' && !(key in target) && aliases.has(key)
        ? target[aliases.get(key)!]
        : Reflect.get(target, key, receiver),
  });
  return new AliasedObject({ ...schema._def, shape: () => shape }, aliases, model);
}

class AliasedObject extends z.ZodObject<z.ZodRawShape> {
  constructor(
    def: z.ZodObjectDef<z.ZodRawShape>,
    readonly aliases: ReadonlyMap<string, string>,
    readonly model: string,
  ) {
    super(def);
  }

  override _parse(input: z.ParseInput): z.ParseReturnType<this['_output']> {
    const data: unknown = input.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return super._parse(input);
    const r = renameParams(data as Record<string, unknown>, this.aliases);
    if (r.conflict) {
      const ctx = this._getOrReturnCtx(input);
      const { key, message } = r.conflict;
      z.addIssueToContext(ctx, { code: z.ZodIssueCode.custom, message, path: [key] });
      return z.INVALID;
    }
    return super._parse({ ...input, data: r.params });
  }
}

const ENTRIES: ModelEntry[] = [
  entry(
    'baseline',
    'global mean + regularised user/item biases (Surprise BaselineOnly)',
    'rating',
    baselineSchema,
    (p) => new BaselineModel(p),
  ),
  entry(
    'ials',
    'implicit-feedback ALS (Hu, Koren & Volinsky) with CG or Cholesky solves',
    'ranking',
    ialsSchema,
    (p) => new IalsModel(p),
  ),
  entry(
    'bpr',
    'Bayesian personalised ranking MF (Rendle et al.), deterministic DSGD over threads',
    'ranking',
    bprSchema,
    (p) => new BprModel(p),
  ),
  entry(
    'lmf',
    'logistic matrix factorisation (Johnson 2014), AdaGrad, popularity negatives',
    'ranking',
    lmfSchema,
    (p) => new LmfModel(p),
  ),
  entry(
    'ease',
    'EASE (Steck 2019): closed-form item-item regression; needs 20 bytes × items²',
    'ranking',
    easeSchema,
    (p) => new EaseModel(p),
  ),
  entry(
    'knn-topn-item',
    'top-N item-item nearest neighbours for implicit data (implicit ItemItemRecommender): cosine, tf-idf or bm25 weighting',
    'ranking',
    itemKnnSchema,
    (p) => new ItemKnnModel(p),
  ),
  entry(
    'rp3beta',
    'RP3β (Paudel et al. 2017): item-item random-walk weights with a popularity discount pop(j)^β, top-K per item',
    'ranking',
    rp3betaSchema,
    (p) => new Rp3betaModel(p),
  ),
  entry(
    'slim',
    'SLIM (Ning & Karypis 2011): non-negative ElasticNet item-item regression by coordinate descent, items over threads',
    'ranking',
    slimSchema,
    (p) => new SlimModel(p),
  ),
  entry(
    'content',
    'content-based: genre / tag TF-IDF / genome item profiles, rating-weighted user profiles, cosine',
    'ranking',
    contentSchema,
    (p) => new ContentModel(p),
  ),
  entry(
    'popularity',
    'items by number of training interactions',
    'ranking',
    popularitySchema,
    (p) => new PopularityModel(p),
  ),
  entry('random', 'a seeded random ranking per user', 'ranking', randomSchema, (p) => new RandomModel(p)),
  entry(
    'global-mean',
    'the training mean rating for every pair',
    'rating',
    globalMeanSchema,
    () => new GlobalMeanModel(),
  ),
  entry(
    'pure-svd',
    'PureSVD: randomized truncated SVD of the zero-filled rating matrix (ranking)',
    'ranking',
    pureSvdSchema,
    (p) => new PureSvdModel(p),
  ),
  entry(
    'als-genre',
    'explicit ALS with user/item/genre biases and genre factors (the bias + users + movies + genre features model); needs movie genres',
    'rating',
    alsGenreSchema,
    (p) => new AlsGenreModel(p),
  ),
  entry(
    'svd',
    'biased MF by SGD (Surprise SVD semantics), deterministic DSGD strata over threads',
    'rating',
    svdSchema,
    (p) => new SvdModel(p),
  ),
  entry(
    'svdpp',
    'SVD++: biased MF with implicit feedback y_j of rated items (Surprise SVDpp semantics)',
    'rating',
    svdppSchema,
    (p) => new SvdppModel(p),
  ),
  entry(
    'knn-rating-item',
    'rating prediction by item-based KNN (Surprise KNNBasic/WithMeans/Baseline), sparse sorted neighbour rows',
    'rating',
    knnSchema,
    (p) => new KnnModel(false, p),
  ),
  entry(
    'knn-rating-user',
    'rating prediction by user-based KNN (Surprise KNNBasic/WithMeans/Baseline), sparse sorted neighbour rows',
    'rating',
    knnSchema,
    (p) => new KnnModel(true, p),
  ),
  entry(
    'hybrid-nn',
    'hybrid network on TensorFlow.js: embeddings + genre/text/year/popularity content tower → MLP',
    'rating',
    hybridNnSchema,
    (p) => new HybridNnModel(p),
  ),
  entry(
    'neumf',
    'NeuMF / GMF / MLP (He et al.) on TensorFlow.js, implicit (sampled negatives) or rating mode',
    'ranking',
    neumfSchema,
    (p) => new NeumfModel(p),
  ),
  entry(
    'gbdt',
    'gradient-boosted trees re-ranking with user/movie features and CF scores; needs movie content',
    'rating',
    gbdtSchema,
    (p) => new GbdtModel(p),
  ),
  entry(
    'ensemble',
    'ensemble controller: rating models fitted concurrently, blended by stacking on a validation slice',
    'rating',
    ensembleSchema,
    (p) => new EnsembleModel('rating', p, ENSEMBLE_FACTORY),
  ),
  entry(
    'ensemble-ranking',
    'ensemble controller for ranking: per-user z-scored member scores blended by logistic stacking',
    'ranking',
    ensembleRankingSchema,
    (p) => new EnsembleModel('ranking', p, ENSEMBLE_FACTORY),
  ),
];

/** Registry entries by name: iteration gives the canonical names only; `get` / `has` accept aliases too. */
class ModelTable extends Map<string, ModelEntry> {
  override get(name: string): ModelEntry | undefined {
    return super.get(canonicalModelName(name));
  }

  override has(name: string): boolean {
    return super.has(canonicalModelName(name));
  }
}

export const MODELS: ReadonlyMap<string, ModelEntry> = new ModelTable(ENTRIES.map((e) => [e.name, e]));

/** Every registry entry, in registry order (canonical names; aliases are in MODEL_ALIASES). */
export function registryEntries(): ModelEntry[] {
  return [...MODELS.values()];
}

/** How ensembles build and check their members (the registry is passed in: it imports the ensemble itself). */
const ENSEMBLE_FACTORY = {
  create: (name: string, params: Record<string, unknown>) => createModel(name, params),
  task: (name: string) => modelEntry(name).task,
  has: (name: string, key: string) => key in modelEntry(name).schema.shape,
};

/** Registry names for help texts: the canonical ones, then the old names still accepted. */
export function modelNamesHelp(): string {
  const aliases = Object.entries(MODEL_ALIASES).map(([a, c]) => `${a} → ${c}`);
  return `${[...MODELS.keys()].join(', ')} (old names still accepted: ${aliases.join(', ')})`;
}

export function modelEntry(name: string): ModelEntry {
  const e = MODELS.get(name);
  if (!e) throw new ConfigError('model', `unknown model "${name}"; available: ${modelNamesHelp()}`);
  return e;
}

/**
 * Validates `params` against the model's schema and builds it; errors name the parameter and what is allowed.
 * `name` may be an alias (the model reports its canonical name) and params may use any spelling of
 * PARAM_SPELLINGS (renamed to the canonical keys before validation).
 */
export function createModel(name: string, params: Record<string, unknown> = {}): Recommender {
  const e = modelEntry(name);
  const result = e.schema.safeParse(params);
  if (!result.success) throw new ConfigError(`model ${e.name}`, formatZodIssues(result.error, e.schema));
  return e.create(result.data);
}

/** Turns `key=value` strings (CLI --set) into typed params following the model's schema (canonical keys). */
export function parseSetArguments(name: string, sets: string[]): Record<string, unknown> {
  const e = modelEntry(name);
  const shape = e.schema.shape;
  const given: Array<[string, unknown]> = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError('--set', `expected key=value, got "${s}"`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    const field = shape[key];
    if (!field) {
      throw new ConfigError(
        `--set ${key}`,
        `model ${e.name} has no parameter "${key}"; parameters: ${Object.keys(shape).join(', ')}`,
      );
    }
    given.push([key, coerce(raw, field)]);
  }
  const r = renameParams(Object.fromEntries(given), e.paramAliases);
  if (r.conflict) throw new ConfigError(`--set ${r.conflict.key}`, r.conflict.message);
  return r.params;
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
