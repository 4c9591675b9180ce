import { readFileSync } from 'node:fs';
import { displayBundle, inNotebook, type MimeBundle } from '../util/notebook-display';
import type { PlotlyFigure } from './figures';

export { displayBundle, inNotebook, type MimeBundle } from '../util/notebook-display';

let plotlyScriptSent = false;
let figureCounter = 0;

/** How a page gets plotly.js: embedded (≈4.5 MB, opens with no network) or from Plotly's CDN (a few kB). */
export type PlotlySource = 'embedded' | 'cdn';

/** The `<script>` tag loading plotly.js: the installed npm package's file inlined, or the same version's CDN copy. */
export function plotlyScriptTag(source: PlotlySource = 'embedded'): string {
  if (source === 'cdn') {
    const { version } = JSON.parse(
      readFileSync(require.resolve('plotly.js-dist-min/package.json'), 'utf8'),
    ) as {
      version: string;
    };
    return `<script type="text/javascript" src="https://cdn.plot.ly/plotly-${version}.min.js" charset="utf-8"></script>`;
  }
  const path = require.resolve('plotly.js-dist-min');
  return `<script type="text/javascript">${readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`;
}

/**
 * Standalone HTML for a figure that renders with no network: plotly.js comes from the installed npm package.
 * `includePlotly` embeds the library (≈4.5 MB); in a notebook that happens once, later figures reuse it.
 */
export function figureHtml(figure: PlotlyFigure, includePlotly: boolean | PlotlySource = true): string {
  const id = `reelab-fig-${process.pid}-${++figureCounter}`;
  const json = JSON.stringify(figure).replace(/<\//g, '<\\/');
  const lib = includePlotly
    ? `${plotlyScriptTag(includePlotly === true ? 'embedded' : includePlotly)}\n`
    : '';
  return (
    `${lib}<div id="${id}" style="width:100%;min-height:${figure.layout?.height ?? 450}px"></div>\n` +
    `<script type="text/javascript">(function(){var f=${json};` +
    `function draw(){if(window.Plotly){window.Plotly.newPlot("${id}",f.data,f.layout||{},{responsive:true});}else{setTimeout(draw,50);}}draw();})();</script>`
  );
}

/** The figure's title as plain text (subtitle markup such as `<br><sup>` turned into " — "). */
export function plainTitle(figure: PlotlyFigure): string {
  const text = figure.layout?.title?.text;
  if (!text) return 'untitled';
  return text
    .replace(/<br\s*\/?>/gi, ' — ')
    .replace(/<[^>]*>/g, '')
    .trim();
}

/** A whole HTML page holding one figure (plotly.js embedded unless `plotly: 'cdn'`): what `saveFigure` writes and Chromium renders. */
export function standaloneFigureHtml(
  figure: PlotlyFigure,
  options: { title?: string; width?: number; plotly?: PlotlySource } = {},
): string {
  const title = escapeHtml(options.title ?? plainTitle(figure));
  const width = options.width ? `width:${options.width}px;` : '';
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n` +
    `<body style="margin:0;font-family:sans-serif"><div style="${width}">\n${figureHtml(figure, options.plotly ?? 'embedded')}\n</div></body></html>\n`
  );
}

/**
 * Shows a Plotly figure in the notebook: the Plotly MIME bundle that JupyterLab renders natively, plus an
 * offline HTML fallback (what nbconvert's HTML export and other front ends use). Outside notebooks it does
 * nothing (use `figureHtml` to write a file).
 */
export function showFigure(figure: PlotlyFigure): void {
  if (!inNotebook()) return;
  const html = figureHtml(figure, !plotlyScriptSent);
  plotlyScriptSent = true;
  displayBundle({
    'application/vnd.plotly.v1+json': { data: figure.data, layout: figure.layout ?? {} },
    'text/html': html,
    'text/plain': `<Plotly figure: ${plainTitle(figure)}, ${figure.data.length} trace(s)>`,
  });
}

/** A table row: any flat object; values are shown as text (numbers rounded to `digits`). */
export type TableRow = object;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number')
    return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : v.toFixed(digits);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return `[${Array.from(v as unknown as ArrayLike<number>, (x) => formatCell(x, digits)).join(', ')}]`;
  if (Array.isArray(v)) return `[${v.map((x) => formatCell(x, digits)).join(', ')}]`;
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : (x as unknown)));
  return String(v);
}

/** Columns of equal length (DuckDB's `getColumnsObjectJS()`, `FeatureDb.query`) → rows. */
export function rowsFromColumns(columns: Record<string, ArrayLike<unknown>>): TableRow[] {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]!]!.length : 0;
  return Array.from({ length: n }, (_, r) => {
    const row: Record<string, unknown> = {};
    for (const c of names) row[c] = columns[c]![r];
    return row;
  });
}

/** Table input: rows, or columns of equal length (a DuckDB result). */
export type TableInput = TableRow[] | Record<string, ArrayLike<unknown>>;

function asRows(input: TableInput): TableRow[] {
  return Array.isArray(input) ? input : rowsFromColumns(input);
}

function cell(row: TableRow, column: string): unknown {
  return (row as Record<string, unknown>)[column];
}

/** HTML table (and a plain-text version) of rows or columns; columns follow the first row unless given. */
export function tableBundle(
  input: TableInput,
  options: { columns?: string[]; digits?: number; caption?: string } = {},
): MimeBundle {
  const rows = asRows(input);
  const columns = options.columns ?? Object.keys(rows[0] ?? {});
  const digits = options.digits ?? 4;
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${columns.map((c) => `<td>${escapeHtml(formatCell(cell(r, c), digits))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  const html = `<table class="reelab-table">${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
  const widths = columns.map((c) =>
    Math.max(c.length, ...rows.map((r) => formatCell(cell(r, c), digits).length)),
  );
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join('  ');
  const text = [
    line(columns),
    ...rows.map((r) => line(columns.map((c) => formatCell(cell(r, c), digits)))),
  ].join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/** Shows rows (or a DuckDB result's columns) as a table in the notebook, or prints them as text elsewhere. */
export function showTable(
  rows: TableInput,
  options: { columns?: string[]; digits?: number; caption?: string } = {},
): void {
  const bundle = tableBundle(rows, options);
  if (!displayBundle(bundle)) console.log(bundle['text/plain']);
}

/** Shows one object as a two-column table (field, value): a feature row, a run's params, a summary. */
export function showRecord(record: object, options: { digits?: number; caption?: string } = {}): void {
  showTable(
    Object.entries(record).map(([field, value]) => ({ field, value })),
    { ...options, columns: ['field', 'value'] },
  );
}
