import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunContext } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { findChromium, screenshotHtml } from './chromium';
import { type PlotlySource, standaloneFigureHtml } from './display';
import type { PlotlyFigure } from './figures';

export interface SaveFigureOptions {
  /** PNG next to the HTML: 'auto' (default) when headless Chromium is installed, true to require it, false never. */
  png?: boolean | 'auto';
  /** Artifact folder in the run (default "figures"). */
  folder?: string;
  /** Also keep the files in this local folder (default: only a temp copy, removed afterwards). */
  dir?: string;
  /** plotly.js in the HTML: 'embedded' (default; opens offline) or 'cdn' (small pages, needs network). */
  plotly?: PlotlySource;
  /** PNG size in px (default 1100 × the figure's height or 700). */
  width?: number;
  height?: number;
}

export interface SavedFigure {
  /** Artifact paths written to the run (empty when the run is untracked). */
  artifacts: string[];
  /** Local copies when `dir` was given. */
  files: string[];
  /** False when no PNG was made (Chromium missing and png 'auto'). */
  png: boolean;
}

/**
 * Saves a figure to the run's artifacts as `figures/<name>.html` — a standalone page with plotly.js embedded,
 * so it opens from the MLflow UI's artifact view with no network — and `figures/<name>.png` rendered by
 * headless Chromium when it is installed. While the server is away the files wait in the run's outbox; with
 * `run` null or untracked only the local copies (`dir`) are written.
 */
export async function saveFigure(
  run: RunContext | null,
  figure: PlotlyFigure,
  name: string,
  options: SaveFigureOptions = {},
): Promise<SavedFigure> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new ConfigError(
      'figure name',
      `"${name}" must be letters, digits, ".", "_" or "-" (it becomes a file name)`,
    );
  const folder = options.folder ?? 'figures';
  const tracked = run?.client != null;
  if (!tracked && !options.dir) return { artifacts: [], files: [], png: false };
  const wantPng = options.png ?? 'auto';
  const chromium = wantPng === false ? null : findChromium();
  if (wantPng === true && !chromium)
    throw new ConfigError(
      'png',
      'headless Chromium is not installed (scripts/setup-chromium.sh or REELAB_CHROMIUM)',
    );
  const work = options.dir ?? mkdtempSync(join(tmpdir(), 'reelab-figure-'));
  mkdirSync(work, { recursive: true });
  const htmlFile = join(work, `${name}.html`);
  const pngFile = join(work, `${name}.png`);
  const width = options.width ?? 1100;
  const height = options.height ?? (figure.layout?.height ?? 700) + 40;
  try {
    writeFileSync(htmlFile, standaloneFigureHtml(figure, { plotly: options.plotly }));
    const files = [htmlFile];
    if (chromium) {
      // The PNG renders from a fixed-size copy so the responsive layout does not depend on a window.
      const sized = join(work, `.${name}.png.html`);
      writeFileSync(sized, standaloneFigureHtml(figure, { width }));
      await screenshotHtml(sized, pngFile, { width, height });
      rmSync(sized, { force: true });
      files.push(pngFile);
    }
    const artifacts: string[] = [];
    if (tracked && run) {
      for (const file of files) {
        const path = `${folder}/${file.slice(work.length + 1)}`;
        await run.logArtifact(file, path);
        artifacts.push(path);
      }
    }
    return { artifacts, files: options.dir ? files : [], png: chromium !== null };
  } finally {
    if (!options.dir) rmSync(work, { recursive: true, force: true });
  }
}

/** Saves several figures (name → figure) to the run, one after the other; returns every artifact path written. */
export async function saveFigures(
  run: RunContext | null,
  figures: Record<string, PlotlyFigure>,
  options: SaveFigureOptions = {},
): Promise<string[]> {
  const written: string[] = [];
  for (const [name, figure] of Object.entries(figures))
    written.push(...(await saveFigure(run, figure, name, options)).artifacts);
  return written;
}
