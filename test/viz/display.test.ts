import { describe, expect, it } from 'vitest';
import {
  displayBundle,
  figureHtml,
  inNotebook,
  plainTitle,
  rowsFromColumns,
  standaloneFigureHtml,
  tableBundle,
} from '../../lib/viz/display';
import { ratingDistributionFigure } from '../../lib/viz/figures';

describe('tables', () => {
  it('rows to HTML and aligned text, numbers rounded, HTML escaped', () => {
    const b = tableBundle([
      { model: 'svd <b>', rmse: 0.912345, n: 10 },
      { model: 'baseline', rmse: 0.95, n: 3 },
    ]);
    const html = String(b['text/html']);
    expect(html).toContain('<th>model</th><th>rmse</th><th>n</th>');
    expect(html).toContain('<td>svd &lt;b&gt;</td><td>0.9123</td><td>10</td>');
    expect(String(b['text/plain']).split('\n')).toEqual([
      'model     rmse    n ',
      'svd <b>   0.9123  10',
      'baseline  0.9500  3 ',
    ]);
  });

  it('DuckDB-style columns, bigint counts and typed arrays', () => {
    const rows = rowsFromColumns({ genre: ['Drama', 'Comedy'], n: [BigInt(4361), BigInt(3756)] });
    expect(rows).toEqual([
      { genre: 'Drama', n: BigInt(4361) },
      { genre: 'Comedy', n: BigInt(3756) },
    ]);
    const b = tableBundle(
      { genre: ['Drama'], n: [BigInt(4361)], v: [Float32Array.from([1, 2.5])] },
      { digits: 1 },
    );
    expect(String(b['text/html'])).toContain('<td>Drama</td><td>4361</td><td>[1, 2.5]</td>');
    expect(String(tableBundle([{ o: { big: BigInt(2) } }])['text/html'])).toContain(
      '{&quot;big&quot;:&quot;2&quot;}',
    );
  });
});

describe('figure HTML', () => {
  const fig = ratingDistributionFigure([1, 2, 2], 'Tiny');

  it('embeds plotly.js from the npm package (no CDN) only when asked', () => {
    const full = figureHtml(fig, true);
    const light = figureHtml(fig, false);
    expect(full.length).toBeGreaterThan(1_000_000);
    // no <script src=…>: the library is inline (its own text mentions CDNs in comments and options)
    expect(/<script[^>]*\ssrc=/i.test(full)).toBe(false);
    expect(full.split('window.Plotly = Plotly').length - 1).toBe(1);
    expect(light.length).toBeLessThan(5000);
    expect(light).toContain('"x":[1,2]');
    expect(light).toContain('Plotly.newPlot');
    // figure JSON cannot close the script element early
    const tricky = figureHtml({ data: [{ type: 'bar', name: '</script><b>' }] }, false);
    expect(tricky).not.toContain('</script><b>');
  });

  it('a standalone page with a plain-text title', () => {
    expect(plainTitle(fig)).toBe('Tiny — 3 ratings');
    const page = standaloneFigureHtml(fig);
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<title>Tiny — 3 ratings</title>');
  });

  it('outside a notebook nothing is displayed', () => {
    expect(inNotebook()).toBe(false);
    expect(displayBundle({ 'text/plain': 'x' })).toBe(false);
  });
});
