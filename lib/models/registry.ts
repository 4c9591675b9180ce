import { z } from 'zod';
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
import { SvdModel, svdSchema } from './svd';
import { SvdppModel, svdppSchema } from './svdpp';

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
    'item-knn',
    'item-item nearest neighbours for implicit data: cosine, tf-idf or bm25 weighting, top-k lists',
    'ranking',
    itemKnnSchema,
    (p) => new ItemKnnModel(p),
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
    'explicit ALS with user/item/genre biases and genre factors (seed 004); needs movie genres',
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
    'knn-item',
    'item-based KNN (Surprise KNNBasic/WithMeans/Baseline), sparse sorted neighbour rows',
    'rating',
    knnSchema,
    (p) => new KnnModel(false, p),
  ),
  entry(
    'knn-user',
    'user-based KNN (Surprise KNNBasic/WithMeans/Baseline), sparse sorted neighbour rows',
    'rating',
    knnSchema,
    (p) => new KnnModel(true, p),
  ),
  entry(
    'hybrid-nn',
    'hybrid network on TensorFlow.js: embeddings + genre/text/year/popularity content tower → MLP (seed 003)',
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
    'gradient-boosted trees re-ranking with user/movie features and CF scores (seed 000); needs movie content',
    'rating',
    gbdtSchema,
    (p) => new GbdtModel(p),
  ),
  entry(
    'ensemble',
    'ensemble controller (seed 000): rating models fitted concurrently, blended by stacking on a validation slice',
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

export const MODELS: ReadonlyMap<string, ModelEntry> = new Map(ENTRIES.map((e) => [e.name, e]));

/** How ensembles build and check their members (the registry is passed in: it imports the ensemble itself). */
const ENSEMBLE_FACTORY = {
  create: (name: string, params: Record<string, unknown>) => createModel(name, params),
  task: (name: string) => modelEntry(name).task,
  has: (name: string, key: string) => key in modelEntry(name).schema.shape,
};

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
