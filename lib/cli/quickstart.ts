import { mlflowUiUrl } from '../tracking/run';
import { quickstart } from '../workflows/quickstart';
import { note, printResult, untilInterrupted } from './output';

export async function quickstartCommand(opts: {
  dataDir?: string;
  serve?: boolean;
  json?: boolean;
}): Promise<void> {
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
}
