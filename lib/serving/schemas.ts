/**
 * JSON schemas of the HTTP API (request validation by Fastify's Ajv, response serialisation, and the OpenAPI
 * document at /docs), with the TypeScript shapes the handlers see.
 */

export const DEFAULT_K = 10;

const movie = {
  type: 'object',
  required: ['movieId', 'title', 'genres', 'year'],
  properties: {
    movieId: { type: 'integer' },
    title: { type: 'string' },
    genres: { type: 'array', items: { type: 'string' } },
    year: { type: ['integer', 'null'] },
  },
} as const;

const because = {
  type: 'array',
  description: 'Rated movies most similar to this one ("because you liked …")',
  items: {
    type: 'object',
    required: ['movieId', 'title', 'similarity'],
    properties: { movieId: { type: 'integer' }, title: { type: 'string' }, similarity: { type: 'number' } },
  },
} as const;

const recommendedItem = {
  type: 'object',
  required: [...movie.required, 'score'],
  properties: { ...movie.properties, score: { type: 'number' }, because },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

const errors = { 400: errorSchema, 404: errorSchema, 413: errorSchema, 415: errorSchema } as const;

function kQuery(maxK: number) {
  return {
    type: 'integer',
    minimum: 1,
    maximum: maxK,
    default: DEFAULT_K,
    description: `list length (1–${maxK})`,
  } as const;
}

const idParam = (description: string) => ({ type: 'integer', minimum: 1, description }) as const;

export interface KQuery {
  k: number;
}
export interface UserRecsQuery extends KQuery {
  explain: boolean;
}
export interface IdParams {
  id: number;
}
export interface PredictParams {
  uid: number;
  mid: number;
}
export interface SearchQuery {
  q: string;
  limit: number;
}
export interface ColdStartBody {
  ratings: Array<{ movieId: number; rating: number }>;
  k: number;
  explain: boolean;
}

export interface SchemaLimits {
  maxK: number;
  maxRatings: number;
}

/** Route schemas for the given limits. */
export function routeSchemas({ maxK, maxRatings }: SchemaLimits) {
  return {
    health: {
      summary: 'Service status and the loaded model',
      tags: ['service'],
      response: {
        200: {
          type: 'object',
          required: ['status', 'model', 'dataset', 'task', 'users', 'movies'],
          properties: {
            status: { type: 'string' },
            model: { type: 'string' },
            dataset: { type: 'string' },
            task: { type: 'string', enum: ['rating', 'ranking'] },
            users: { type: 'integer' },
            movies: { type: 'integer' },
            runId: { type: ['string', 'null'] },
            trainedAt: { type: 'string' },
            similarity: { type: 'string' },
            ratingScale: { type: 'array', items: { type: 'number' } },
            registry: {
              type: ['object', 'null'],
              description: 'registered model name, version, alias and run id (models:/… only)',
              properties: {
                name: { type: 'string' },
                version: { type: 'string' },
                alias: { type: ['string', 'null'] },
                runId: { type: ['string', 'null'] },
              },
            },
            uptimeSeconds: { type: 'number' },
          },
        },
      },
    },
    userRecommendations: {
      summary: "Top-k unseen movies for a user of the model's training data",
      tags: ['recommendations'],
      params: {
        type: 'object',
        required: ['id'],
        properties: { id: idParam('MovieLens user id') },
      },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          k: kQuery(maxK),
          explain: { type: 'boolean', default: false, description: 'add "because you liked" neighbours' },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['user', 'model', 'items'],
          properties: {
            user: { type: 'integer' },
            model: { type: 'string' },
            items: { type: 'array', items: recommendedItem },
          },
        },
        ...errors,
      },
    },
    coldStart: {
      summary: 'Top-k movies for a new user from a few ratings (cold start)',
      tags: ['recommendations'],
      body: {
        type: 'object',
        required: ['ratings'],
        additionalProperties: false,
        properties: {
          ratings: {
            type: 'array',
            minItems: 1,
            maxItems: maxRatings,
            items: {
              type: 'object',
              required: ['movieId', 'rating'],
              additionalProperties: false,
              properties: { movieId: { type: 'integer' }, rating: { type: 'number' } },
            },
          },
          k: kQuery(maxK),
          explain: { type: 'boolean', default: true },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['model', 'method', 'used', 'unknownMovies', 'items'],
          properties: {
            model: { type: 'string' },
            method: { type: 'string' },
            used: { type: 'integer' },
            unknownMovies: { type: 'array', items: { type: 'integer' } },
            items: { type: 'array', items: recommendedItem },
          },
        },
        ...errors,
      },
    },
    similar: {
      summary: 'Movies most similar to a movie (the model’s own neighbours, factor cosine or co-ratings)',
      tags: ['movies'],
      params: { type: 'object', required: ['id'], properties: { id: idParam('MovieLens movie id') } },
      querystring: { type: 'object', additionalProperties: false, properties: { k: kQuery(maxK) } },
      response: {
        200: {
          type: 'object',
          required: ['movie', 'source', 'items'],
          properties: {
            movie,
            source: { type: 'string' },
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: [...movie.required, 'similarity'],
                properties: { ...movie.properties, similarity: { type: 'number' } },
              },
            },
          },
        },
        ...errors,
      },
    },
    predict: {
      summary: 'Predicted rating (or ranking score) of a movie for a known user',
      tags: ['recommendations'],
      params: {
        type: 'object',
        required: ['uid', 'mid'],
        properties: { uid: idParam('MovieLens user id'), mid: idParam('MovieLens movie id') },
      },
      response: {
        200: {
          type: 'object',
          required: ['user', 'movie', 'prediction', 'kind', 'seen'],
          properties: {
            user: { type: 'integer' },
            movie,
            prediction: { type: 'number' },
            kind: { type: 'string', enum: ['rating', 'score'] },
            seen: { type: 'boolean' },
          },
        },
        ...errors,
      },
    },
    search: {
      summary: 'Find movies by title words (for the rating page)',
      tags: ['movies'],
      querystring: {
        type: 'object',
        required: ['q'],
        additionalProperties: false,
        properties: {
          q: { type: 'string', minLength: 1, maxLength: 200 },
          limit: { type: 'integer', minimum: 1, maximum: maxK, default: 20 },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: [...movie.required, 'ratings'],
                properties: { ...movie.properties, ratings: { type: 'integer' } },
              },
            },
          },
        },
        ...errors,
      },
    },
  };
}
