import type { Command } from 'commander';
import { mlflowUiUrl } from '../tracking/run';
import { quickstart } from '../workflows/quickstart';
import { action, note, printResult, untilInterrupted } from './output';

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description(
      'the main job: MLflow up, quickstart experiment on the data found, quickstart notebook executed',
    )
    .option('--data-dir <dir>', 'folder holding <dataset>/ (default: $REELAB_DATA_DIR or ./data)')
    .option('--serve', 'keep the MLflow UI running until Ctrl-C (default when run in a terminal, not in CI)')
    .option('--no-serve', 'stop a server this command started and exit when done')
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: { dataDir?: string; serve?: boolean; json?: boolean }) => {
        const result = await quickstart({ dataDir: opts.dataDir, log: (l) => note(`[quickstart] ${l}`) });
        const { server, ...summary } = result;
        const experimentUrl = result.experimentId
          ? mlflowUiUrl(result.trackingUri, result.experimentId)
          : result.trackingUri;
        printResult({ ...summary, experimentUrl }, opts.json === true, () =>
          [
            '',
            `Done. Baseline RMSE on ${result.dataset} (${result.split}): ${result.rmse.toFixed(4)}`,
            `  MLflow UI:          ${experimentUrl}`,
            `  executed notebook:  ${result.notebook}`,
            `  HTML export:        ${result.notebookHtml}`,
            '  next: `npm run lab` opens JupyterLab on notebooks/ with the TypeScript (tslab) kernel',
          ].join('\n'),
        );
        const serve = opts.serve ?? (process.stdout.isTTY === true && process.env.CI !== 'true');
        if (server && serve) {
          note(`[quickstart] MLflow keeps running at ${server.url}; press Ctrl-C to stop it.`);
          await untilInterrupted();
        }
        if (server) {
          note('[quickstart] stopping MLflow …');
          await server.stop();
        }
      }),
    );
}
