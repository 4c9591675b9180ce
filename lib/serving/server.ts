import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { ConfigError, ReelabError } from '../util/errors';
import { projectRoot } from '../util/project';
import {
  type ColdStartBody,
  type IdParams,
  type PredictParams,
  routeSchemas,
  type SearchQuery,
  type UserRecsQuery,
} from './schemas';
import { NotFoundError, type RecommendationService } from './service';

export interface ServerOptions {
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Largest request body in bytes (default 64 KiB); larger bodies get 413. */
  bodyLimit?: number;
  /** Most ratings in one cold-start request (default 500). */
  maxRatings?: number;
  /** Folder of the web page (default <project>/web; null: no page). */
  webDir?: string | null;
  /** Fastify request logging (default off). */
  logger?: boolean;
}

const WEB_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/**
 * The HTTP API over one RecommendationService (see schemas.ts for the routes), the OpenAPI page at /docs and
 * the web page at /. Errors are JSON {statusCode, error, message}: validation and bad input 400, unknown users
 * and movies 404, oversized bodies 413; unexpected errors 500 without internals. Not listening yet: call
 * `listen` or use `startServer`.
 */
export async function buildServer(
  service: RecommendationService,
  options: ServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === true,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Reject unknown fields instead of silently dropping them.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false },
    },
  });
  const started = Date.now();
  const schemas = routeSchemas({ maxK: service.maxK, maxRatings: options.maxRatings ?? 500 });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'reelab recommendations',
        version: '1',
        description:
          `Serving model **${service.loaded.model.name}** trained on ${service.loaded.meta.dataset}. ` +
          'Ids are MovieLens userId / movieId.',
      },
      tags: [
        { name: 'recommendations', description: 'known users, new users, predicted ratings' },
        { name: 'movies', description: 'similar movies and title search' },
        { name: 'service', description: 'health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof NotFoundError) return sendError(reply, 404, err.message);
    if (err instanceof ConfigError) return sendError(reply, 400, err.message);
    if (err.validation) return sendError(reply, 400, err.message);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, err.message);
    request.log.error(err);
    const why = err instanceof ReelabError ? err.message : 'unexpected error (see the server log)';
    return sendError(reply, 500, why);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `no route ${request.method} ${request.url.split('?')[0]} (see /docs)`),
  );

  app.get('/health', { schema: schemas.health }, async () => ({
    status: 'ok',
    ...service.summary,
    uptimeSeconds: (Date.now() - started) / 1000,
  }));

  app.get<{ Params: IdParams; Querystring: UserRecsQuery }>(
    '/users/:id/recommendations',
    { schema: schemas.userRecommendations },
    async (request) => service.recommendForUser(request.params.id, request.query.k, request.query.explain),
  );

  app.post<{ Body: ColdStartBody }>('/recommendations', { schema: schemas.coldStart }, async (request) => {
    const { ratings, k, explain } = request.body;
    return service.recommendForRatings(ratings, k, explain);
  });

  app.get<{ Params: IdParams; Querystring: { k: number } }>(
    '/movies/:id/similar',
    { schema: schemas.similar },
    async (request) => service.similar(request.params.id, request.query.k),
  );

  app.get<{ Params: PredictParams }>(
    '/users/:uid/predict/:mid',
    { schema: schemas.predict },
    async (request) => service.predict(request.params.uid, request.params.mid),
  );

  app.get<{ Querystring: SearchQuery }>('/movies/search', { schema: schemas.search }, async (request) => ({
    items: service.search(request.query.q, request.query.limit),
  }));

  const webDir = options.webDir === undefined ? join(projectRoot(), 'web') : options.webDir;
  if (webDir) {
    for (const [route, file] of Object.entries(WEB_FILES)) {
      const body = readFileSync(join(webDir, file));
      const type = CONTENT_TYPES[file.split('.').pop()!]!;
      app.get(route, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .header('content-type', type)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'self'; img-src 'self' data:")
          .send(body),
      );
    }
  }
  return app;
}

function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message });
}

export interface RunningServer {
  app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  close(): Promise<void>;
}

/** Builds the API and listens (127.0.0.1:8000 unless told otherwise). */
export async function startServer(
  service: RecommendationService,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const app = await buildServer(service, options);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8000;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new ConfigError('--port', `must be an integer from 0 to 65535, got ${port}`);
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${shownHost}:${actualPort}`, close: () => app.close() };
}
