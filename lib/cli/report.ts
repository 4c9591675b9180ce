import { relative } from 'node:path';
import { DEFAULT_TRACKING_URI } from '../tracking/connect';
import { MlflowClient } from '../tracking/mlflow-client';
import { isMlflowUp } from '../tracking/server';
import { ConfigError } from '../util/errors';
import { rebuildReport } from '../workflows/experiment';
import { note, printResult } from './output';

export async function reportCommand(opts: {
  run: string;
  out?: string;
  trackingUri?: string;
  json?: boolean;
}): Promise<void> {
  const uri = opts.trackingUri ?? process.env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI;
  if (!(await isMlflowUp(uri)))
    throw new ConfigError(
      '--tracking-uri',
      `no MLflow server answers at ${uri} (start one with \`npm run mlflow\`)`,
    );
  const client = new MlflowClient({ trackingUri: uri, warn: note, outboxDir: false });
  const { report, files } = await rebuildReport(client, opts.run, opts.out);
  const best = report.model.leaderboard[0];
  const summary = {
    run: opts.run,
    name: report.name,
    markdown: files.markdown,
    html: files.html,
    best: best
      ? {
          label: best.label,
          [report.model.selectKey]: best.values[report.model.selectKey]?.value ?? null,
        }
      : null,
  };
  printResult(
    summary,
    opts.json === true,
    (s: typeof summary) =>
      `report of run ${s.run}: ${relative(process.cwd(), s.markdown)}, ${relative(process.cwd(), s.html)}`,
  );
}
