import { relative } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_TRACKING_URI } from '../tracking/connect';
import { MlflowClient } from '../tracking/mlflow-client';
import { isMlflowUp } from '../tracking/server';
import { ConfigError } from '../util/errors';
import { rebuildReport } from '../workflows/experiment';
import { action, note, printResult } from './output';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild an experiment report from MLflow alone (no recomputation)')
    .requiredOption('--run <id>', 'the parent run of `reelab search` / `reelab experiment`')
    .option('--out <dir>', 'report folder (default experiments/reports)')
    .option('--tracking-uri <uri>', 'MLflow server (default MLFLOW_TRACKING_URI, else the local default)')
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: { run: string; out?: string; trackingUri?: string; json?: boolean }) => {
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
      }),
    );
}
