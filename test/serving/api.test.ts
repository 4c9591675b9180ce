import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../lib/serving/server';
import { RecommendationService } from '../../lib/serving/service';
import { train } from '../../lib/workflows/train';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { call, post, realUserRatings } from './helpers';

type Item = { movieId: number; title: string; genres: string[]; score: number; because?: unknown[] };

describe.runIf(HAS_ML_LATEST_SMALL)('HTTP API on ml-latest-small (real server on a free port)', () => {
  let dir = '';
  let server: RunningServer;
  let url = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reelab-api-'));
    await train({
      dataset: 'ml-latest-small',
      model: 'svd',
      params: { factors: 32, epochs: 10, seed: 3 },
      out: join(dir, 'model'),
      dataDir: realDataDir(),
    });
    const service = await RecommendationService.open(join(dir, 'model'), { maxK: 50 });
    server = await startServer(service, { port: 0, bodyLimit: 16 * 1024, maxRatings: 100 });
    url = server.url;
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 by default and reports health', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await call(`${url}/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      model: 'svd',
      dataset: 'ml-latest-small',
      task: 'rating',
      users: 610,
      movies: 9724,
      similarity: 'factors',
      ratingScale: [0.5, 5],
    });
  });

  it('GET /users/:id/recommendations: k unseen movies with titles, best first', async () => {
    const { status, body } = await call(`${url}/users/1/recommendations?k=7`);
    expect(status).toBe(200);
    const items = body.items as Item[];
    expect(body.user).toBe(1);
    expect(items).toHaveLength(7);
    const seen = realUserRatings(1);
    expect(seen.size).toBe(232);
    for (const it of items) {
      expect(seen.has(it.movieId)).toBe(false);
      expect(it.title.length).toBeGreaterThan(0);
      expect(Number.isFinite(it.score)).toBe(true);
    }
    for (let r = 1; r < items.length; r++) expect(items[r]!.score).toBeLessThanOrEqual(items[r - 1]!.score);
    const defaultK = await call(`${url}/users/1/recommendations`);
    expect((defaultK.body.items as Item[]).length).toBe(10);
    const explained = await call(`${url}/users/1/recommendations?k=3&explain=true`);
    for (const it of explained.body.items as Item[]) expect(Array.isArray(it.because)).toBe(true);
  });

  it('POST /recommendations: cold start from posted ratings, rated movies left out, "because" from liked ones', async () => {
    const ratings = [
      { movieId: 1, rating: 5 }, // Toy Story
      { movieId: 3114, rating: 5 }, // Toy Story 2
      { movieId: 2355, rating: 4.5 }, // A Bug's Life
      { movieId: 296, rating: 1 }, // Pulp Fiction
      { movieId: 999999, rating: 3 }, // not a movie of the model
    ];
    const { status, body } = await post(`${url}/recommendations`, { ratings, k: 8 });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      model: 'svd',
      method: 'factors-explicit',
      used: 4,
      unknownMovies: [999999],
    });
    const items = body.items as Array<Item & { because: Array<{ movieId: number }> }>;
    expect(items).toHaveLength(8);
    const rated = new Set(ratings.map((r) => r.movieId));
    for (const it of items) {
      expect(rated.has(it.movieId)).toBe(false);
      for (const b of it.because) expect([1, 3114, 2355]).toContain(b.movieId);
    }
    const plain = await post(`${url}/recommendations`, {
      ratings: ratings.slice(0, 2),
      k: 3,
      explain: false,
    });
    expect(plain.status).toBe(200);
    for (const it of plain.body.items as Item[]) expect(it.because).toBeUndefined();
  });

  it('GET /movies/:id/similar and /movies/search', async () => {
    const sim = await call(`${url}/movies/260/similar?k=5`);
    expect(sim.status).toBe(200);
    expect(sim.body.movie).toMatchObject({
      movieId: 260,
      title: 'Star Wars: Episode IV - A New Hope (1977)',
    });
    expect(sim.body.source).toBe('factors');
    const items = sim.body.items as Array<{ movieId: number; similarity: number }>;
    expect(items).toHaveLength(5);
    expect(items.map((m) => m.movieId)).not.toContain(260);
    const search = await call(`${url}/movies/search?q=${encodeURIComponent('the matrix')}&limit=3`);
    expect(search.status).toBe(200);
    expect((search.body.items as Item[])[0]).toMatchObject({ movieId: 2571, title: 'Matrix, The (1999)' });
  });

  it('GET /users/:uid/predict/:mid: a rating on the training scale, and whether the user rated it', async () => {
    const rated = await call(`${url}/users/1/predict/1`);
    expect(rated.status).toBe(200);
    expect(rated.body).toMatchObject({ user: 1, kind: 'rating', seen: true, movie: { movieId: 1 } });
    const p = rated.body.prediction as number;
    expect(p).toBeGreaterThanOrEqual(0.5);
    expect(p).toBeLessThanOrEqual(5);
    const seen = realUserRatings(1);
    const unseenId = [2571, 318, 260, 589, 4993].find((m) => !seen.has(m))!;
    const unseen = await call(`${url}/users/1/predict/${unseenId}`);
    expect(unseen.body).toMatchObject({ seen: false, movie: { movieId: unseenId } });
  });

  it('the OpenAPI page and document', async () => {
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
    const { status, body } = await call(`${url}/docs/json`);
    expect(status).toBe(200);
    const paths = Object.keys(body.paths as Record<string, unknown>);
    for (const p of [
      '/health',
      '/users/{id}/recommendations',
      '/recommendations',
      '/movies/{id}/similar',
      '/users/{uid}/predict/{mid}',
      '/movies/search',
    ])
      expect(paths).toContain(p);
  });

  it('bad input gets clear 4xx answers and the server stays up', async () => {
    const cases: Array<[Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp]> = [
      [call(`${url}/users/99999/recommendations`), 404, /user 99999 is not in the model's training data/],
      [call(`${url}/users/abc/recommendations`), 400, /params\/id must be integer/],
      [call(`${url}/users/1/recommendations?k=-1`), 400, /k must be >= 1/],
      [call(`${url}/users/1/recommendations?k=0`), 400, /k must be >= 1/],
      [call(`${url}/users/1/recommendations?k=1000000`), 400, /k must be <= 50/],
      [call(`${url}/users/1/recommendations?k=2.5`), 400, /k must be integer/],
      [call(`${url}/users/1/recommendations?kk=3`), 400, /must NOT have additional properties/],
      [call(`${url}/movies/424242/similar`), 404, /movie 424242 is not in the model's training data/],
      [call(`${url}/users/1/predict/424242`), 404, /movie 424242/],
      [call(`${url}/users/99999/predict/1`), 404, /user 99999/],
      [call(`${url}/movies/search`), 400, /must have required property 'q'/],
      [call(`${url}/movies/search?q=${encodeURIComponent(',,,')}`), 400, /no letters or digits/],
      [post(`${url}/recommendations`, '{"ratings": [', true), 400, /not valid JSON/],
      [post(`${url}/recommendations`, {}, false), 400, /must have required property 'ratings'/],
      [post(`${url}/recommendations`, { ratings: [] }), 400, /must NOT have fewer than 1 items/],
      [
        post(`${url}/recommendations`, { ratings: [{ movieId: 1 }] }),
        400,
        /must have required property 'rating'/,
      ],
      [
        post(`${url}/recommendations`, { ratings: [{ movieId: 1, rating: 'x' }] }),
        400,
        /rating must be number/,
      ],
      [post(`${url}/recommendations`, { ratings: [{ movieId: 1, rating: 9 }] }), 400, /from 0\.5 to 5/],
      [
        post(`${url}/recommendations`, {
          ratings: [
            { movieId: 1, rating: 4 },
            { movieId: 1, rating: 5 },
          ],
        }),
        400,
        /rated twice/,
      ],
      [
        post(`${url}/recommendations`, { ratings: [{ movieId: 999999, rating: 4 }] }),
        400,
        /none of the rated movies/,
      ],
      [
        post(`${url}/recommendations`, { ratings: [{ movieId: 1, rating: 4 }], k: -3 }),
        400,
        /k must be >= 1/,
      ],
      [
        post(`${url}/recommendations`, {
          ratings: Array.from({ length: 101 }, (_, i) => ({ movieId: i + 1, rating: 3 })),
        }),
        400,
        /must NOT have more than 100 items/,
      ],
      [
        post(`${url}/recommendations`, {
          ratings: Array.from({ length: 2000 }, (_, i) => ({ movieId: i + 1, rating: 3 })),
        }),
        413,
        /too large/i,
      ],
      [
        call(`${url}/recommendations`, {
          method: 'POST',
          body: '<r/>',
          headers: { 'content-type': 'application/xml' },
        }),
        415,
        /unsupported media type/i,
      ],
      [
        call(`${url}/recommendations`, {
          method: 'POST',
          body: 'ratings',
          headers: { 'content-type': 'text/plain' },
        }),
        400,
        /body must be object/,
      ],
      [call(`${url}/no/such/route`), 404, /no route GET \/no\/such\/route/],
    ];
    for (const [request, status, message] of cases) {
      const res = await request;
      expect({ status: res.status, message: res.body.message }).toEqual({
        status,
        message: expect.stringMatching(message),
      });
      expect(res.body.statusCode).toBe(status);
    }
    const health = await call(`${url}/health`);
    expect(health.status).toBe(200);
  });

  it('serves the web page with its script and a restrictive content security policy', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await page.text()).toMatch(/<script src="\/app\.js"/);
    const js = await fetch(`${url}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });
});
