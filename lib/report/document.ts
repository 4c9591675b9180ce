/**
 * A small document model rendered two ways — Markdown, and a self-contained offline HTML page with the Plotly
 * figures embedded (plotly.js read from the installed npm package) — so both reports always say the same.
 * Inline text may use `code` and **bold**. Rendering is deterministic: no timestamps, no random ids.
 */
import { plotlyScriptTag } from '../viz/display';
import type { PlotlyFigure } from '../viz/figures';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; header: string[]; rows: string[][]; align?: Array<'left' | 'right'> }
  | { kind: 'figure'; id: string; title: string; caption: string; figure: PlotlyFigure };

export interface ReportDocument {
  title: string;
  blocks: Block[];
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Markdown: headings, paragraphs, lists, pipe tables; figures become a line pointing at the HTML report. */
export function renderMarkdown(doc: ReportDocument, htmlName: string): string {
  const out: string[] = [];
  doc.blocks.forEach((b, i) => {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`, '');
        break;
      case 'paragraph':
        out.push(b.text, '');
        break;
      case 'list':
        for (const item of b.items) out.push(`- ${item}`);
        out.push('');
        break;
      case 'table': {
        out.push(`| ${b.header.map(mdCell).join(' | ')} |`);
        out.push(`|${b.header.map((_, i) => (b.align?.[i] === 'right' ? '---:' : '---')).join('|')}|`);
        for (const r of b.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
        out.push('');
        break;
      }
      case 'figure':
        out.push(`- **${b.title}** — ${b.caption} ([interactive](${htmlName}#${b.id}))`);
        if (doc.blocks[i + 1]?.kind !== 'figure') out.push('');
        break;
    }
  });
  return `${out.join('\n').trimEnd()}\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `code`, **bold** and [text](url) in escaped text. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
}

const STYLE = `body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.8em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
td.r{text-align:right;font-variant-numeric:tabular-nums}code{background:#f5f5f5;padding:0 3px;border-radius:3px;font-size:90%}
figure{margin:1.2em 0;border-top:1px solid #eee;padding-top:0.6em}figcaption{font-size:13px;color:#555}
h1{border-bottom:2px solid #ddd;padding-bottom:0.2em}h2{border-bottom:1px solid #eee;padding-bottom:0.1em;margin-top:1.6em}`;

/** A whole HTML page, offline: plotly.js embedded once, figures drawn from their JSON specs. */
export function renderHtml(doc: ReportDocument, options: { embedPlotly?: boolean } = {}): string {
  const body: string[] = [];
  let figures = 0;
  for (const b of doc.blocks) {
    switch (b.kind) {
      case 'heading':
        body.push(`<h${b.level}>${inline(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        body.push(`<p>${inline(b.text)}</p>`);
        break;
      case 'list':
        body.push(`<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`);
        break;
      case 'table': {
        const head = b.header.map((h) => `<th>${inline(h)}</th>`).join('');
        const rows = b.rows
          .map(
            (r) =>
              `<tr>${r.map((c, i) => `<td${b.align?.[i] === 'right' ? ' class="r"' : ''}>${inline(c)}</td>`).join('')}</tr>`,
          )
          .join('\n');
        body.push(`<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`);
        break;
      }
      case 'figure': {
        figures++;
        const json = JSON.stringify({ data: b.figure.data, layout: b.figure.layout ?? {} }).replace(
          /<\//g,
          '<\\/',
        );
        const height = b.figure.layout?.height ?? 450;
        body.push(
          `<figure id="${b.id}"><div id="plot-${b.id}" class="plot" style="width:100%;min-height:${height}px"></div>` +
            `<figcaption>${inline(b.caption)}</figcaption>` +
            `<script type="application/json" id="spec-${b.id}">${json}</script></figure>`,
        );
        break;
      }
    }
  }
  const draw =
    figures > 0
      ? '<script>document.querySelectorAll("figure[id]").forEach(function(f){var s=document.getElementById("spec-"+f.id);' +
        'if(!s||!window.Plotly)return;var spec=JSON.parse(s.textContent);' +
        'window.Plotly.newPlot("plot-"+f.id,spec.data,spec.layout,{responsive:true});});</script>'
      : '';
  const lib = figures > 0 && options.embedPlotly !== false ? `${plotlyScriptTag('embedded')}\n` : '';
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.title)}</title>\n` +
    `<style>${STYLE}</style>\n${lib}</head>\n<body>\n${body.join('\n')}\n${draw}\n</body></html>\n`
  );
}
