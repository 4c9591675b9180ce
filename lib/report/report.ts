/**
 * Experiment reports: `renderReport(data)` turns ReportData (from MLflow or an untracked search) into Markdown
 * and a self-contained HTML page — setup, leaderboard with confidence intervals and significance against the
 * best model, published reference numbers, the search tables, figures, and every MLflow run id — and
 * `writeReport` writes `<dir>/<name>.md` and `<dir>/<name>.html`. Same data in, same bytes out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../config/schema';
import { describeParams, paramText } from '../util/params-text';
import type { ReportData, ReportTrial } from './data';
import { describeSplit } from './describe';
import { type Block, type ReportDocument, renderHtml, renderMarkdown } from './document';
import { type NamedFigure, reportFigures } from './figures';
import { buildReportModel, type Interval, type LeaderboardRow, type ReportModel } from './stats';

export interface RenderedReport {
  name: string;
  markdown: string;
  html: string;
  figures: NamedFigure[];
  model: ReportModel;
}

/** 4 decimals (metrics); integers as they are. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Number.isInteger(v) && Math.abs(v) >= 1 ? String(v) : v.toFixed(digits);
}

function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}

function fmtInterval(v: Interval | undefined): string {
  if (!v) return '—';
  if (v.lower === null || v.upper === null) return fmt(v.value);
  return `${fmt(v.value)} [${fmt(v.lower)}, ${fmt(v.upper)}]`;
}

function short(hash: string | null): string {
  return hash ? hash.slice(0, 12) : '—';
}

function metricLabel(model: ReportModel, key: string): string {
  const info = model.metrics.find((m) => m.key === key);
  if (!info) return key;
  return info.protocol === 'rating' || model.data.config.protocols.length <= 1
    ? info.name
    : `${info.name} (${info.protocol})`;
}

function setupBlocks(model: ReportModel): Block[] {
  const { data } = model;
  const c = data.config;
  const counts = {
    total: data.trials.length,
    ran: data.trials.filter((t) => t.status === 'ran').length,
    reused: data.trials.filter((t) => t.status === 'reused').length,
    failed: data.trials.filter((t) => t.status === 'failed').length,
  };
  const goalText = c.select.goal === 'min' ? 'lower is better' : 'higher is better';
  const searchText = c.models
    .map((m, e) => {
      const n = model.configs[e]?.length ?? 0;
      return `${m.label}: ${n} configuration${n === 1 ? '' : 's'}`;
    })
    .join('; ');
  const rows: string[][] = [
    [
      'Dataset',
      `${c.dataset}${data.datasetSha256 ? ` (ratings sha256 \`${short(data.datasetSha256)}…\`)` : ''}`,
    ],
    ['Test splits', `${c.splits.join(', ')} — ${describeSplit(c)}`],
    [
      'Validation',
      c.validation
        ? `${c.validation.join(', ')} carved from each training part: configurations are chosen and early-stopped on it, then the best one is refitted on the whole training part and scored on the test part`
        : 'none: configurations are compared on the test folds themselves (with more than one configuration, the best score is optimistic)',
    ],
    ['Metrics', c.metrics.map((m) => `\`${m}\``).join(', ')],
    ['Protocol', protocolText(c)],
    [
      'Relevance',
      c.protocols.length === 0
        ? 'not used (rating metrics only)'
        : c.relevance === null
          ? 'every held-out interaction is relevant'
          : `held-out rating ≥ ${c.relevance} is relevant`,
    ],
    ['Selection', `\`${c.select.metric}\` (${goalText}), mean over each configuration's trials`],
    [
      'Search',
      `${c.search.strategy}${c.search.strategy === 'random' ? ` (${c.search.trials} draws per model)` : ''} — ${searchText}`,
    ],
    [
      'Early stopping',
      c.earlyStopping
        ? `\`${c.earlyStopping.metric}\` (${c.earlyStopping.goal}), patience ${c.earlyStopping.patience}, min delta ${c.earlyStopping.minDelta}; the model is refitted for the best epoch count (models without an epoch parameter train as configured)`
        : 'none',
    ],
    [
      'Seed',
      `${c.seed} (splits and validation parts; model seeds not fixed in the config are derived from it and each trial's data, model and params)`,
    ],
    [
      'Trials',
      `${counts.total}: ${counts.ran} ran, ${counts.reused} reused from earlier searches, ${counts.failed} failed`,
    ],
    ['Git commit', gitText(data)],
    [
      'Config',
      `${data.configPath ? `\`${data.configPath}\`` : 'in memory'}, sha256 \`${short(data.configSha256)}…\``,
    ],
    [
      'MLflow',
      data.parentRunId
        ? `experiment \`${data.experiment}\`, parent run \`${data.parentRunId}\``
        : 'not tracked',
    ],
  ];
  return [
    { kind: 'heading', level: 2, text: 'Setup' },
    { kind: 'table', header: ['Setting', 'Value'], rows },
  ];
}

function gitText(data: ReportData): string {
  const head = data.gitCommit
    ? `\`${data.gitCommit}\`${data.gitDirty ? ' (with uncommitted changes)' : ''}`
    : 'unknown';
  const older = data.trialCommits.filter((c) => c !== data.gitCommit);
  return older.length
    ? `${head}; reused trials were computed at ${older.map((c) => `\`${c.slice(0, 12)}\``).join(', ')}`
    : head;
}

function protocolText(c: ExperimentConfig): string {
  const parts: string[] = [];
  if (c.metrics.some((m) => m === 'rmse' || m === 'mae'))
    parts.push('rating prediction on every held-out rating');
  for (const p of c.protocols)
    parts.push(
      p === 'full'
        ? 'full ranking: every item the user has not rated in training is ranked'
        : `sampled: each relevant held-out item ranked against ${p.slice(8)} sampled negatives`,
    );
  return parts.join('; ');
}

/** The leaderboard as a table of text cells (what the report shows; notebooks display it with showTable). */
export function leaderboardTable(model: ReportModel): { header: string[]; rows: string[][] } {
  const tests = model.data.config.report.significance;
  const sel = model.selectKey;
  const keys = model.metrics.map((m) => m.key);
  const header = ['#', 'Model', ...keys.map((k) => metricLabel(model, k)), `Δ ${metricLabel(model, sel)}`];
  if (tests !== 'wilcoxon') header.push('p (t)');
  if (tests !== 'paired-t') header.push('p (W)');
  const rows = model.leaderboard.map((r, i) => {
    const vs = r.versusBest[sel] ?? null;
    const star = (p: number | null) => (p !== null && p < 0.05 ? '*' : '');
    const cells = [
      String(i + 1),
      `${r.label}${r.entry === model.bestEntry ? ' (best)' : ''}`,
      ...keys.map((k) => fmtInterval(r.values[k])),
      r.entry === model.bestEntry
        ? '—'
        : vs
          ? (vs.meanDifference >= 0 ? '+' : '') + fmt(vs.meanDifference)
          : '—',
    ];
    if (tests !== 'wilcoxon') cells.push(vs ? `${fmtP(vs.tP)}${star(vs.tP)}` : '—');
    if (tests !== 'paired-t') cells.push(vs ? `${fmtP(vs.wilcoxonP)}${star(vs.wilcoxonP)}` : '—');
    return cells;
  });
  return { header, rows };
}

/** The leaderboard table as row objects keyed by column (for `showTable`). */
export function leaderboardRows(model: ReportModel): Array<Record<string, string>> {
  const { header, rows } = leaderboardTable(model);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!])));
}

function leaderboardBlocks(model: ReportModel): Block[] {
  const { data } = model;
  const c = data.config;
  const best = model.leaderboard.find((r) => r.entry === model.bestEntry) ?? null;
  const sel = model.selectKey;
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Leaderboard' }];
  const tests = c.report.significance;
  const testText =
    tests === 'both'
      ? 'paired t-test (t) and Wilcoxon signed-rank test (W)'
      : tests === 'paired-t'
        ? 'paired t-test (t)'
        : 'Wilcoxon signed-rank test (W)';
  blocks.push({
    kind: 'paragraph',
    text:
      `Each model's best configuration, best first by \`${c.select.metric}\`. Values: ${c.splits.length > 1 ? 'mean over the test folds' : 'on the test part'} ` +
      `with ${model.ciMethod}. Significance against the best model (${best ? `**${best.label}**` : 'none'}): ${testText} on per-user values ` +
      `of \`${metricLabel(model, sel)}\`, paired by fold and user; Δ = mean over those pairs of (model − best), so it can differ ` +
      'from the difference of the pooled values; * marks p < 0.05.',
  });
  const { header, rows } = leaderboardTable(model);
  blocks.push({ kind: 'table', header, rows, align: header.map((_, i) => (i === 1 ? 'left' : 'right')) });

  // Parameters of the leaderboard configurations.
  blocks.push({ kind: 'heading', level: 3, text: 'Configurations on the leaderboard' });
  blocks.push({
    kind: 'table',
    header: ['Model', 'Registry model', 'Params (fixed and chosen)', 'Trained epochs'],
    rows: model.leaderboard.map((r) => [
      r.label,
      `\`${r.model}\``,
      describeParams(r.given, ', ', 'registry defaults'),
      r.epochs.length ? r.epochs.join(', ') : '—',
    ]),
  });

  if (c.report.references.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Published reference numbers' });
    if (c.report.referencesNote) blocks.push({ kind: 'paragraph', text: c.report.referencesNote.trim() });
    const refKeys = [...new Set(c.report.references.flatMap((r) => Object.keys(r.metrics)))];
    blocks.push({
      kind: 'table',
      header: ['Reference', ...refKeys, 'Source'],
      rows: c.report.references.map((r) => [
        r.label,
        ...refKeys.map((k) => (r.metrics[k] === undefined ? '—' : String(r.metrics[k]))),
        r.source ?? '',
      ]),
      align: ['left', ...refKeys.map(() => 'right' as const), 'left'],
    });
  }

  // Every per-user metric against the best.
  const perUserKeys = model.metrics.filter((m) => m.perUser).map((m) => m.key);
  if (best && perUserKeys.length > 1 && model.leaderboard.length > 1) {
    blocks.push({ kind: 'heading', level: 3, text: `Significance against ${best.label}, every metric` });
    const sigRows: string[][] = [];
    for (const r of model.leaderboard) {
      if (r === best) continue;
      for (const k of perUserKeys) {
        const vs = r.versusBest[k];
        if (!vs) continue;
        sigRows.push([
          r.label,
          metricLabel(model, k),
          (vs.meanDifference >= 0 ? '+' : '') + fmt(vs.meanDifference),
          String(vs.n),
          fmtP(vs.tP),
          fmtP(vs.wilcoxonP),
        ]);
      }
    }
    blocks.push({
      kind: 'table',
      header: ['Model', 'Metric', 'Δ (model − best)', 'pairs', 'p (t)', 'p (W)'],
      rows: sigRows,
      align: ['left', 'left', 'right', 'right', 'right', 'right'],
    });
  }
  return blocks;
}

function searchBlocks(model: ReportModel): Block[] {
  const c = model.data.config;
  const blocks: Block[] = [];
  const searched = model.configs.filter((rows) => rows.length > 1);
  if (searched.length === 0) return blocks;
  blocks.push({ kind: 'heading', level: 2, text: 'Search' });
  blocks.push({
    kind: 'paragraph',
    text: `Every configuration's mean \`${c.select.metric}\` over its ${c.validation ? 'validation' : 'test'} trials (± sample sd, n trials); the best is marked.`,
  });
  for (const rows of searched) {
    const m = c.models[rows[0]!.entry]!;
    const params = Object.keys(rows[0]!.searched);
    blocks.push({ kind: 'heading', level: 3, text: `${m.label} — ${rows.length} configurations` });
    const withEpoch = rows.some((r) => r.bestEpoch !== null);
    const header = [
      '#',
      ...params,
      `${c.select.metric}`,
      'sd',
      'n',
      ...(withEpoch ? ['best epoch'] : []),
      '',
    ];
    blocks.push({
      kind: 'table',
      header,
      rows: rows.map((r) => [
        String(r.config),
        ...params.map((p) => paramText(r.searched[p])),
        fmt(r.score),
        fmt(r.sd),
        String(r.n),
        ...(withEpoch ? [r.bestEpoch === null ? '—' : fmt(r.bestEpoch, 1)] : []),
        r.best ? '**best**' : r.failed ? `${r.failed} failed` : '',
      ]),
      align: header.map((_, i) => (i === 0 || i > params.length ? 'right' : 'left')),
    });
  }
  return blocks;
}

function runBlocks(model: ReportModel): Block[] {
  const { data } = model;
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'MLflow runs' }];
  if (!data.parentRunId) {
    blocks.push({ kind: 'paragraph', text: 'This search was not tracked: no MLflow runs.' });
    return blocks;
  }
  blocks.push({
    kind: 'paragraph',
    text:
      `Parent run \`${data.parentRunId}\` in experiment \`${data.experiment}\` holds the config, \`trials.json\`, \`results.csv\` and the figures; ` +
      `rebuild this report from MLflow alone with \`reelab report --run ${data.parentRunId}\`. One nested run per trial (params, per-epoch curves, final metrics, per-user values):`,
  });
  blocks.push({
    kind: 'table',
    header: ['Trial', 'Model', 'Config', 'Split', 'Validation', 'Role', 'Status', 'Run id'],
    rows: data.trials.map((t: ReportTrial) => [
      String(t.index),
      t.label,
      `#${t.config} ${describeParams(t.searched)}`,
      t.split,
      t.validation ?? '—',
      t.role,
      t.status,
      t.runId ? `\`${t.runId}\`` : '—',
    ]),
  });
  return blocks;
}

function failureBlocks(model: ReportModel): Block[] {
  if (model.failed.length === 0) return [];
  return [
    { kind: 'heading', level: 2, text: 'Failed trials' },
    {
      kind: 'list',
      items: model.failed.map(
        (t) => `${t.label} #${t.config} on ${t.split}: ${(t.error ?? 'failed').split('\n')[0]}`,
      ),
    },
  ];
}

function leaderboardSummary(r: LeaderboardRow, model: ReportModel): string {
  const v = r.values[model.selectKey];
  return `${r.label} ${fmt(v?.value)}`;
}

/** Renders a report (see the module comment). */
/** The Model Registry version an experiment's `register:` created (shown under the best-model line). */
export interface ReportRegistration {
  /** `models:/NAME/<version>` */
  uri: string;
  alias: string | null;
  name: string;
  runId: string | null;
  label: string;
  split: string;
  /** How the configuration was chosen: on a validation part, or "optimistic (test fold)". */
  selection: string;
}

export function renderReport(
  data: ReportData,
  extras: { registered?: ReportRegistration | null } = {},
): RenderedReport {
  const model = buildReportModel(data);
  const figures = reportFigures(model);
  const c = data.config;
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: c.report.title }];
  if (c.description) blocks.push({ kind: 'paragraph', text: c.description.trim() });
  const best = model.leaderboard[0];
  if (best?.values[model.selectKey])
    blocks.push({
      kind: 'paragraph',
      text: `**Best by \`${c.select.metric}\`: ${leaderboardSummary(best, model)}.** Generated from ${
        data.parentRunId ? `MLflow run \`${data.parentRunId}\`` : 'an untracked search'
      }${data.configPath ? ` of \`${data.configPath}\`` : ''}.`,
    });
  const reg = extras.registered;
  if (reg)
    blocks.push({
      kind: 'paragraph',
      text: `**Registered: \`${reg.uri}\`**${reg.alias ? ` (alias \`models:/${reg.name}@${reg.alias}\`)` : ''} — ${reg.label} refitted on the training part of ${reg.split}${reg.runId ? ` in MLflow run \`${reg.runId}\`` : ''}; selection: ${reg.selection}.`,
    });
  blocks.push(...setupBlocks(model), ...leaderboardBlocks(model), ...searchBlocks(model));
  if (figures.length > 0) {
    blocks.push({ kind: 'heading', level: 2, text: 'Figures' });
    blocks.push({
      kind: 'paragraph',
      text: `Interactive in [${c.name}.html](${c.name}.html) (self-contained, works offline).`,
    });
    for (const f of figures)
      blocks.push({ kind: 'figure', id: f.id, title: f.title, caption: f.caption, figure: f.figure });
  }
  blocks.push(...failureBlocks(model), ...runBlocks(model));
  const doc: ReportDocument = { title: c.report.title, blocks };
  const htmlDoc: ReportDocument = {
    title: doc.title,
    blocks: blocks.filter((b) => !(b.kind === 'paragraph' && b.text.startsWith('Interactive in ['))),
  };
  return {
    name: c.name,
    markdown: renderMarkdown(doc, `${c.name}.html`),
    html: renderHtml(htmlDoc),
    figures,
    model,
  };
}

/** Writes `<dir>/<name>.md` and `<dir>/<name>.html`; returns their paths. */
export function writeReport(report: RenderedReport, dir: string): { markdown: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const markdown = join(dir, `${report.name}.md`);
  const html = join(dir, `${report.name}.html`);
  writeFileSync(markdown, report.markdown);
  writeFileSync(html, report.html);
  return { markdown, html };
}
