import { readFileSync } from 'node:fs';
import type { PlotlyFigure } from './figures';

/** One rich output: several representations of the same thing, keyed by MIME type. */
export type MimeBundle = Record<string, unknown>;

type WriteDisplayData = (
  data: { data: MimeBundle; metadata: object; transient: { display_id?: string } },
  update: boolean,
) => void;

/**
 * tslab's low-level display channel, when this code runs inside a tslab kernel cell. `display.raw` from
 * tslab's public API can only send strings, but JupyterLab's Plotly renderer needs a JSON object, and we
 * want several MIME types in one bundle, so we use the same function tslab's public API calls.
 */
function tslabWriter(): WriteDisplayData | null {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: tslab's internal module has no public type for this.
    const jupyter = require('tslab/dist/jupyter') as any;
    return (jupyter.lastWriteDisplayData as WriteDisplayData | null) ?? null;
  } catch {
    return null;
  }
}

/** True inside a tslab notebook cell. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

/** Sends a MIME bundle to the notebook (new output, or an update of `displayId`); false outside notebooks. */
export function displayBundle(bundle: MimeBundle, displayId?: string, update = false): boolean {
  const write = tslabWriter();
  if (!write) return false;
  write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
  return true;
}

let plotlyScriptSent = false;
let figureCounter = 0;

function plotlyScript(): string {
  const path = require.resolve('plotly.js-dist-min');
  return readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script');
}

/**
 * Standalone HTML for a figure that renders with no network: plotly.js comes from the installed npm package.
 * `includePlotly` embeds the library (≈4.5 MB); in a notebook that happens once, later figures reuse it.
 */
export function figureHtml(figure: PlotlyFigure, includePlotly = true): string {
  const id = `reelab-fig-${process.pid}-${++figureCounter}`;
  const json = JSON.stringify(figure).replace(/<\//g, '<\\/');
  const lib = includePlotly ? `<script type="text/javascript">${plotlyScript()}</script>\n` : '';
  return (
    `${lib}<div id="${id}" style="width:100%;min-height:${figure.layout?.height ?? 450}px"></div>\n` +
    `<script type="text/javascript">(function(){var f=${json};` +
    `function draw(){if(window.Plotly){window.Plotly.newPlot("${id}",f.data,f.layout||{},{responsive:true});}else{setTimeout(draw,50);}}draw();})();</script>`
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
    'text/plain': `<Plotly figure: ${figure.layout?.title?.text ?? 'untitled'}, ${figure.data.length} trace(s)>`,
  });
}

/** A table row: any flat object; values are shown as text (numbers rounded to `digits`). */
export type TableRow = object;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function cell(row: TableRow, column: string): unknown {
  return (row as Record<string, unknown>)[column];
}

/** HTML table (and a plain-text version) of rows; columns follow the first row unless given. */
export function tableBundle(
  rows: TableRow[],
  options: { columns?: string[]; digits?: number; caption?: string } = {},
): MimeBundle {
  const columns = options.columns ?? Object.keys(rows[0] ?? {});
  const digits = options.digits ?? 4;
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(formatCell(cell(r, c), digits))}</td>`).join('')}</tr>`)
    .join('\n');
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  const html = `<table class="reelab-table">${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => formatCell(cell(r, c), digits).length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join('  ');
  const text = [line(columns), ...rows.map((r) => line(columns.map((c) => formatCell(cell(r, c), digits))))].join(
    '\n',
  );
  return { 'text/html': html, 'text/plain': text };
}

/** Shows rows as a table in the notebook, or prints them as text elsewhere. */
export function showTable(
  rows: TableRow[],
  options: { columns?: string[]; digits?: number; caption?: string } = {},
): void {
  const bundle = tableBundle(rows, options);
  if (!displayBundle(bundle)) console.log(bundle['text/plain']);
}
