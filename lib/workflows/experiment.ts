/**
 * `reelab experiment <config>`: the search (resumed from MLflow), then the report files
 * `experiments/reports/<name>.md` and `.html`; and `reelab report --run <id>`: the same files rebuilt from
 * MLflow alone.
 */
import { join, resolve } from 'node:path';
import { loadReportData } from '../report/data';
import { type RenderedReport, renderReport, writeReport } from '../report/report';
import type { SearchOptions, SearchResult } from '../search/runner';
import type { MlflowClient } from '../tracking/mlflow-client';
import { projectRoot } from '../util/project';
import { type ConfigArgument, searchWithReport } from './search';

/** Where reports go unless told otherwise: experiments/reports in the project. */
export function defaultReportDir(): string {
  return join(projectRoot(), 'experiments', 'reports');
}

export interface ExperimentOptions extends Omit<SearchOptions, 'source' | 'beforeEnd'> {
  /** Folder of the report files (default experiments/reports). */
  reportDir?: string;
}

export interface ExperimentResult {
  search: SearchResult;
  report: RenderedReport;
  files: { markdown: string; html: string };
}

export async function runExperiment(
  arg: ConfigArgument,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const { reportDir, ...searchOptions } = options;
  const out = await searchWithReport(arg, searchOptions);
  const files = writeReport(out.report, resolve(reportDir ?? defaultReportDir()));
  return { search: out.result, report: out.report, files };
}

/** Rebuilds a search's report from MLflow (no recomputation) and writes it to `dir` (default experiments/reports). */
export async function rebuildReport(
  client: MlflowClient,
  parentRunId: string,
  dir?: string,
): Promise<{ report: RenderedReport; files: { markdown: string; html: string } }> {
  const report = renderReport(await loadReportData(client, parentRunId));
  return { report, files: writeReport(report, resolve(dir ?? defaultReportDir())) };
}
