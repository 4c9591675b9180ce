/**
 * Progress bars for long jobs, one API for the terminal and for notebooks:
 *
 * ```ts
 * const bar = progress({ total: epochs, label: 'svd' });
 * for (...) { ...; bar.tick(1, `rmse ${rmse.toFixed(3)}`); }
 * bar.done();
 * ```
 *
 * - Terminal (stderr by default): on a TTY one line redrawn in place with `\r`; otherwise (CI logs, pipes) one
 *   line per 10 % of progress, so a log never gets thousands of lines.
 * - Notebook (tslab): one HTML display that is updated in place (`update_display_data` through
 *   `displayBundle`), so the cell shows a single bar whatever the number of ticks.
 * Redraws are throttled (at most one per `minIntervalMs`, default 200 ms = 5 per second); `done()` always
 * draws the final state. Without a `total` the bar counts and shows a rate instead of a percentage.
 */

import { ConfigError } from './errors';
import { displayBundle, inNotebook, type MimeBundle } from './notebook-display';

/** Where terminal progress goes: a writable stream (process.stderr by default). */
export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressOutput = 'auto' | 'terminal' | 'notebook' | 'none';

export interface ProgressOptions {
  /** Number of steps to do; omit (or 0) when unknown. */
  total?: number;
  /** What is running, e.g. "UMAP epochs" or "fetch ml-25m". */
  label: string;
  /** Unit shown after the counts, e.g. "epochs" or "items" (default none). */
  unit?: string;
  /** 'auto' (default): a notebook display inside tslab, else the terminal. */
  output?: ProgressOutput;
  /** Terminal sink (default process.stderr). */
  stream?: ProgressSink;
  /** Minimum time between redraws in ms (default 200). */
  minIntervalMs?: number;
  /** Clock in ms (default performance.now); tests drive time through it. */
  clock?: () => number;
  /** Notebook display channel (default `displayBundle`). */
  display?: (bundle: MimeBundle, displayId: string, update: boolean) => boolean;
}

/** What a renderer draws. */
export interface ProgressSnapshot {
  label: string;
  unit: string;
  count: number;
  /** null when the total is unknown. */
  total: number | null;
  elapsedMs: number;
  /** Estimated time left, null until it can be estimated (or when the total is unknown). */
  etaMs: number | null;
  detail: string;
  finished: boolean;
}

export interface Progress {
  readonly count: number;
  readonly total: number | null;
  /** Adds `n` (default 1) done steps; `detail` replaces the free text shown after the bar (e.g. "best 0.912"). */
  tick(n?: number, detail?: string): void;
  /** Sets the number of done steps. */
  set(count: number, detail?: string): void;
  /** Replaces the free text only. */
  detail(text: string): void;
  /** Draws the final state (count = total unless the job stopped early) and ends the bar. */
  done(detail?: string): void;
}

let displayCounter = 0;

/** Starts a progress bar (see the module comment). */
export function progress(options: ProgressOptions): Progress {
  return new ProgressBar(options);
}

class ProgressBar implements Progress {
  private done_ = 0;
  private text = '';
  private finished = false;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly mode: 'tty' | 'lines' | 'notebook' | 'none';
  private readonly clock: () => number;
  private readonly stream: ProgressSink;
  private readonly minInterval: number;
  private readonly displayId: string;
  private displayed = false;
  private lastLineLength = 0;
  /** Lines mode: the last 10 % step printed (-1: none yet), or for unknown totals the time of the last line. */
  private lastDecile = -1;
  readonly total: number | null;

  constructor(private readonly options: ProgressOptions) {
    const total = options.total ?? 0;
    if (!(Number.isFinite(total) && total >= 0))
      throw new ConfigError('progress total', `must be a non-negative number, got ${options.total}`);
    this.total = total > 0 ? total : null;
    this.clock = options.clock ?? (() => performance.now());
    this.started = this.clock();
    this.stream = options.stream ?? process.stderr;
    this.minInterval = options.minIntervalMs ?? 200;
    this.displayId = `reelab-progress-${process.pid}-${++displayCounter}`;
    const output = options.output ?? 'auto';
    if (output === 'none') this.mode = 'none';
    else if (output === 'notebook' || (output === 'auto' && !options.stream && inNotebook()))
      this.mode = 'notebook';
    else this.mode = this.stream.isTTY ? 'tty' : 'lines';
    this.draw(true);
  }

  get count(): number {
    return this.done_;
  }

  tick(n = 1, detail?: string): void {
    this.set(this.done_ + n, detail);
  }

  set(count: number, detail?: string): void {
    if (this.finished) return;
    this.done_ = Math.max(0, count);
    if (detail !== undefined) this.text = detail;
    this.draw(false);
  }

  detail(text: string): void {
    if (this.finished) return;
    this.text = text;
    this.draw(false);
  }

  done(detail?: string): void {
    if (this.finished) return;
    if (detail !== undefined) this.text = detail;
    this.finished = true;
    this.draw(true);
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = this.clock() - this.started;
    let etaMs: number | null = null;
    if (this.total !== null && this.done_ > 0 && !this.finished)
      etaMs = Math.max(0, (elapsedMs / this.done_) * (this.total - this.done_));
    return {
      label: this.options.label,
      unit: this.options.unit ?? '',
      count: this.done_,
      total: this.total,
      elapsedMs,
      etaMs,
      detail: this.text,
      finished: this.finished,
    };
  }

  private draw(force: boolean): void {
    if (this.mode === 'none') return;
    const now = this.clock();
    if (this.mode === 'lines') {
      this.drawLines(now, force);
      return;
    }
    if (!force && now - this.lastDraw < this.minInterval) return;
    this.lastDraw = now;
    const snap = this.snapshot();
    if (this.mode === 'notebook') {
      const show = this.options.display ?? displayBundle;
      show(progressBundle(snap), this.displayId, this.displayed);
      this.displayed = true;
      return;
    }
    const width = Math.max(40, (this.stream.columns ?? 100) - 1);
    const line = formatProgressLine(snap, width);
    const pad = Math.max(0, this.lastLineLength - line.length);
    this.stream.write(`\r${line}${' '.repeat(pad)}${snap.finished ? '\n' : ''}`);
    this.lastLineLength = line.length;
  }

  /** Non-TTY: the start, each new 10 % step, and the end; unknown totals: at most a line every 10 s. */
  private drawLines(now: number, force: boolean): void {
    const snap = this.snapshot();
    let print = force;
    if (!print && this.total !== null) {
      const decile = Math.floor((10 * Math.min(this.done_, this.total)) / this.total);
      if (decile > this.lastDecile && decile < 10) {
        print = true;
        this.lastDecile = decile;
      }
    } else if (!print && now - this.lastDraw >= 10_000) {
      print = true;
    }
    if (!print) return;
    if (force && this.total !== null && !snap.finished) this.lastDecile = 0;
    this.lastDraw = now;
    this.stream.write(`${formatProgressLine(snap, 0)}\n`);
  }
}

/** "1:05", "12:00", "1:02:03"; under 10 s with one decimal ("4.2s"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function fraction(s: ProgressSnapshot): number | null {
  if (s.total === null) return null;
  return Math.min(1, s.count / s.total);
}

/** The counts-and-time part: "450/1000 epochs · 0:12, ETA 0:15" (or a rate without a total). */
function status(s: ProgressSnapshot): string {
  const unit = s.unit ? ` ${s.unit}` : '';
  const time = formatDuration(s.elapsedMs);
  if (s.total === null) {
    const rate = s.elapsedMs > 0 ? (s.count / s.elapsedMs) * 1000 : 0;
    return `${formatCount(s.count)}${unit} · ${time} · ${rate.toFixed(rate < 10 ? 1 : 0)}/s`;
  }
  const eta = s.finished ? '' : s.etaMs === null ? ', ETA ?' : `, ETA ${formatDuration(s.etaMs)}`;
  return `${formatCount(s.count)}/${formatCount(s.total)}${unit} · ${time}${eta}`;
}

/**
 * One text line: "label [#######-------]  45% 450/1000 · 0:12, ETA 0:15 · best 0.912". `width` > 0 fits
 * the line into that many characters (the bar shrinks first, then the line is cut); 0: no limit, 20-char bar.
 */
export function formatProgressLine(s: ProgressSnapshot, width: number): string {
  const f = fraction(s);
  const pct = f === null ? '' : `${String(Math.floor(f * 100)).padStart(3)}% `;
  const tail = `${pct}${status(s)}${s.detail ? ` · ${s.detail}` : ''}${s.finished ? ' ✓' : ''}`;
  let barWidth = 20;
  if (width > 0) barWidth = Math.max(0, Math.min(30, width - s.label.length - tail.length - 4));
  let bar = '';
  if (f !== null && barWidth >= 5) {
    const filled = Math.round(f * barWidth);
    bar = ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  }
  const line = `${s.label}${bar} ${tail}`;
  return width > 0 && line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The notebook rendering: an HTML bar (plain divs and inline styles, no script) plus the text line. */
export function progressBundle(s: ProgressSnapshot): MimeBundle {
  const f = fraction(s);
  const pct = f === null ? null : Math.floor(f * 100);
  const colour = s.finished ? '#2ca02c' : '#1f77b4';
  const barFill = f === null ? (s.finished ? 100 : 0) : f * 100;
  const html =
    `<div class="reelab-progress" data-count="${s.count}" data-total="${s.total ?? ''}" ` +
    `data-finished="${s.finished}" style="font-family:monospace;font-size:12px;margin:2px 0">` +
    `<span style="display:inline-block;min-width:10em">${escapeHtml(s.label)}</span> ` +
    '<span style="display:inline-block;vertical-align:middle;width:240px;height:10px;background:#e5e5e5;border-radius:3px">' +
    `<span style="display:block;height:10px;width:${barFill.toFixed(1)}%;background:${colour};border-radius:3px"></span></span> ` +
    `<span>${pct === null ? '' : `${pct}% `}${escapeHtml(status(s))}${s.detail ? ` · ${escapeHtml(s.detail)}` : ''}${s.finished ? ' ✓' : ''}</span>` +
    '</div>';
  return { 'text/html': html, 'text/plain': formatProgressLine(s, 0) };
}
