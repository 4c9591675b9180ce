import type { NotebookJson } from '../../lib/notebooks/execute';
import { notebookOutputs } from '../../lib/notebooks/execute';

/** A Plotly figure as a notebook output carries it (application/vnd.plotly.v1+json). */
export interface FigureOutput {
  data: Array<{
    type: string;
    name?: string;
    x?: unknown[];
    y?: unknown[];
    z?: unknown[][];
    text?: string[];
  }>;
  layout: { title?: { text?: string } } & Record<string, unknown>;
}

/** Every Plotly figure shown by the executed notebook, in order. */
export function figuresOf(nb: NotebookJson): FigureOutput[] {
  return notebookOutputs(nb)
    .map((o) => o.data?.['application/vnd.plotly.v1+json'] as FigureOutput | undefined)
    .filter((f): f is FigureOutput => f !== undefined);
}

/** The figure whose title starts with `prefix` (fails loudly when missing). */
export function figureTitled(nb: NotebookJson, prefix: string): FigureOutput {
  const fig = figuresOf(nb).find((f) => (f.layout.title?.text ?? '').startsWith(prefix));
  if (!fig) throw new Error(`no figure titled "${prefix}…" in the notebook`);
  return fig;
}

/** The text/html of every rich output that is not a figure (tables, progress bars). */
export function htmlOutputs(nb: NotebookJson): string[] {
  return notebookOutputs(nb)
    .filter(
      (o) => o.data?.['text/html'] !== undefined && o.data['application/vnd.plotly.v1+json'] === undefined,
    )
    .map((o) => {
      const v = o.data!['text/html'];
      return Array.isArray(v) ? v.join('') : String(v);
    });
}

export function sum(values: unknown[] | undefined): number {
  return (values ?? []).reduce<number>((s, v) => s + Number(v), 0);
}
