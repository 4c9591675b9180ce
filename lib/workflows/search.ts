/**
 * `reelab search` as a function: load and validate a config (a YAML file or an object), run the search
 * (resuming from MLflow), and attach the report — Markdown, offline HTML with the figures, and the figure specs
 * — to the parent run. Notebooks call this; `reelab experiment` adds the report files in experiments/reports.
 */
import { loadExperimentConfig, parseExperimentConfig } from '../config/load';
import type { ExperimentConfig, ExperimentConfigInput } from '../config/schema';
import { loadReportData, type ReportData, reportDataFromSearch } from '../report/data';
import { type RenderedReport, renderReport } from '../report/report';
import { trialRunName } from '../search/execute';
import {
  type ConfigSource,
  inMemorySource,
  runSearch,
  type SearchOptions,
  type SearchResult,
} from '../search/runner';
import { hashValue } from '../util/hash';
import { logRunFigures } from '../viz/run-figures';

export interface SearchWorkflowResult {
  result: SearchResult;
  /** What the report was built from (MLflow when tracked). */
  data: ReportData;
  report: RenderedReport;
}

/** A trial's per-user values by metric key (none unless the search kept them for its report). */
function perUserValues(perUser: Record<string, { values: number[] }> | null): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, pu] of Object.entries(perUser ?? {})) out[key] = pu.values;
  return out;
}

/** A config given as a file path, a config object as written, or an already validated config. */
export type ConfigArgument =
  | string
  | ExperimentConfigInput
  | { config: ExperimentConfig; source: ConfigSource };

/** Loads and validates a config; nothing else happens, so a bad config fails before any work. */
export function resolveConfig(
  arg: ConfigArgument,
  name?: string,
): { config: ExperimentConfig; source: ConfigSource } {
  if (typeof arg === 'string') {
    const loaded = loadExperimentConfig(arg);
    return { config: loaded.config, source: { path: loaded.path, text: loaded.text, sha256: loaded.sha256 } };
  }
  if (arg && typeof arg === 'object' && 'config' in arg && 'source' in arg)
    return arg as { config: ExperimentConfig; source: ConfigSource };
  const config = parseExperimentConfig(arg, {
    source: 'experiment config',
    name: name ?? `experiment-${hashValue(arg).slice(0, 8)}`,
  });
  return { config, source: inMemorySource(config) };
}

/** Runs a search and renders its report (logged to the parent run when tracked). */
export async function searchWithReport(
  arg: ConfigArgument,
  options: Omit<SearchOptions, 'source' | 'beforeEnd'> = {},
): Promise<SearchWorkflowResult> {
  const { config, source } = resolveConfig(arg);
  let data: ReportData | null = null;
  let report: RenderedReport | null = null;
  const client = options.tracking ?? null;
  const result = await runSearch(config, {
    ...options,
    source,
    // Trials are many: their pages load plotly.js from the CDN (the parent's report embeds it).
    trialFigures: (run, t, outcome) =>
      logRunFigures(
        run,
        { label: trialRunName(t), epochs: outcome.epochs, perUser: perUserValues(outcome.perUser) },
        { plotly: 'cdn' },
      ).then(() => {}),
    beforeEnd: async (res, parent) => {
      data =
        client && res.parentRunId && !parent.offline
          ? await loadReportData(client, res.parentRunId)
          : reportDataFromSearch(res);
      report = renderReport(data);
      await parent.logText(report.markdown, `report/${report.name}.md`);
      await parent.logText(report.html, `report/${report.name}.html`);
      for (const f of report.figures)
        await parent.logText(`${JSON.stringify(f.figure)}\n`, `figures/${f.id}.json`);
    },
  });
  return { result, data: data!, report: report! };
}
