import type { Command } from 'commander';
import { parseSetArguments } from '../models/registry';
import { connectTracking } from '../tracking/connect';
import { evaluate } from '../workflows/evaluate';
import { action, note, printResult } from './output';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('fit a model on a split and report metrics (logged to MLflow when a server is available)')
    .requiredOption('--dataset <name>', 'dataset name')
    .requiredOption('--split <split>', 'u1…u5, ua, ub, random:<fraction>')
    .requiredOption('--model <name>', 'model name from the registry')
    .option('--set <key=value>', 'model hyperparameter (repeatable)', collect, [] as string[])
    .option('--metrics <list>', 'comma-separated metric names', 'rmse,mae')
    .option('--seed <n>', 'seed for splits, initialisation and sampling', '42')
    .option('--threads <n>', 'worker threads')
    .option('--data-dir <dir>', 'folder holding <dataset>/')
    .option('--experiment <name>', 'MLflow experiment name')
    .option('--no-track', 'do not log to MLflow')
    .option('--json', 'print one JSON object')
    .action(
      action(
        async (opts: {
          dataset: string;
          split: string;
          model: string;
          set: string[];
          metrics: string;
          seed: string;
          threads?: string;
          dataDir?: string;
          experiment?: string;
          track: boolean;
          json?: boolean;
        }) => {
          const params = parseSetArguments(opts.model, opts.set);
          const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
          const result = await evaluate({
            dataset: opts.dataset,
            split: opts.split,
            model: opts.model,
            params,
            metrics: opts.metrics
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean),
            seed: Number(opts.seed),
            threads: opts.threads ? Number(opts.threads) : undefined,
            dataDir: opts.dataDir,
            tracking,
            experiment: opts.experiment,
            source: 'cli',
            sourceName: `reelab ${process.argv.slice(2).join(' ')}`,
            onEpoch: (e) =>
              note(
                `epoch ${e.epoch}/${e.epochs} ${e.trainRmse !== undefined ? `train rmse ${e.trainRmse.toFixed(4)}` : ''}`,
              ),
          });
          const { epochs: _epochs, ...contract } = result;
          printResult(
            contract,
            opts.json === true,
            (r: typeof contract) =>
              `${r.model} on ${r.dataset} ${r.split}: ${Object.entries(r.metrics)
                .map(([k, v]) => `${k} ${v.toFixed(4)}`)
                .join(', ')} (fit ${r.fitSeconds.toFixed(2)} s)${r.runId ? `, MLflow run ${r.runId}` : ''}`,
          );
        },
      ),
    );
}
