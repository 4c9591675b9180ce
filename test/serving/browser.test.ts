import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../lib/serving/server';
import { RecommendationService } from '../../lib/serving/service';
import { projectRoot } from '../../lib/util/project';
import { train } from '../../lib/workflows/train';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { chromiumComponent, requireComponent } from '../helpers/require';

const chromiumBrowser = chromiumComponent();

describe.runIf(HAS_ML_LATEST_SMALL)('the web page in headless Chromium', () => {
  let dir = '';
  let server: RunningServer | null = null;
  let browser: BrowserContext | null = null;

  beforeAll(async () => {
    if (!chromiumBrowser.available) return; // the test then fails (CI) or skips with the reason
    dir = mkdtempSync(join(tmpdir(), 'reelab-browser-'));
    await train({
      dataset: 'ml-latest-small',
      model: 'ials',
      params: { factors: 32, iterations: 8, seed: 4 },
      out: join(dir, 'model'),
      dataDir: realDataDir(),
    });
    server = await startServer(await RecommendationService.open(join(dir, 'model')), { port: 0 });
    // An empty profile folder of our own (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: chromiumBrowser.executable,
      viewport: { width: 1280, height: 900 },
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('search, rate a few movies, see recommendation cards with "because you liked"', async (ctx) => {
    requireComponent(ctx, chromiumBrowser);
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server!.url);
    await expect
      .poll(() => page.textContent('#model-info'))
      .toMatch(/model ials on ml-latest-small: 610 users/);

    const rateFirst = async (query: string, title: RegExp, stars: number) => {
      await page.fill('#search', query);
      await page.click('#search-form button[type=submit]');
      const row = page.locator('#results li.result', { hasText: title }).first();
      await row.waitFor();
      await row.locator(`button.rate-btn[data-rating="${stars}"]`).click();
    };
    await rateFirst('toy story', /^Toy Story \(1995\)/, 5);
    await rateFirst('lion king', /^Lion King, The \(1994\)/, 5);
    await rateFirst('aladdin', /^Aladdin \(1992\)/, 4);
    await rateFirst('saw', /^Saw \(2004\)/, 1);
    await expect.poll(() => page.textContent('#rated-count')).toBe('(4)');

    await page.click('#recommend');
    await page.locator('#cards .card').first().waitFor();
    const cards = page.locator('#cards .card');
    expect(await cards.count()).toBe(12);
    const titles = await page.locator('#cards .card .title').allTextContents();
    for (const rated of ['Toy Story (1995)', 'Lion King, The (1994)', 'Aladdin (1992)', 'Saw (2004)'])
      expect(titles).not.toContain(rated);
    expect(await page.textContent('#method')).toMatch(/ials, factors-implicit, from 4 rating/);
    const because = await page.locator('#cards .card .because').allTextContents();
    expect(because.length).toBeGreaterThan(0);
    for (const b of because)
      expect(b).toMatch(/^Because you liked (Toy Story \(1995\)|Lion King, The \(1994\)|Aladdin \(1992\))/);
    // The cards show exactly what the API recommends for these ratings, in order.
    const api = await fetch(`${server!.url}/recommendations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ratings: [
          { movieId: 1, rating: 5 },
          { movieId: 364, rating: 5 },
          { movieId: 588, rating: 4 },
          { movieId: 8957, rating: 1 },
        ],
        k: 12,
      }),
    });
    const expected = (await api.json()) as { items: Array<{ title: string; genres: string[] }> };
    expect(titles).toEqual(expected.items.map((i) => i.title));
    const genres = await page.locator('#cards .card .genres').allTextContents();
    expect(genres).toEqual(expected.items.map((i) => i.genres.join('')));

    await cards.first().click();
    await page.locator('#similar-list li').first().waitFor();
    expect(await page.locator('#similar-list li').count()).toBe(6);

    const shots = join(projectRoot(), 'test-artifacts');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'serving-page.png'), fullPage: true });
    expect(existsSync(join(shots, 'serving-page.png'))).toBe(true);
    expect(errors).toEqual([]);
  });
});
