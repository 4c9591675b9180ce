import type { Command } from 'commander';
import { parseSetArguments } from '../models/registry';
import { connectTracking } from '../tracking/connect';
import { train } from '../workflows/train';
import { action, note, printResult } from './output';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('fit a model (on all ratings, or a split’s training part) and save a servable model folder')
    .requiredOption('--dataset <name>', 'dataset name')
    .option('--split <split>', 'fit on this split’s training part and report test metrics')
    .requiredOption('--model <name>', 'model name from the registry')
    .option('--set <key=value>', 'model hyperparameter (repeatable)', collect, [] as string[])
    .requiredOption('--out <dir>', 'folder to write the model to (must be empty)')
    .option('--overwrite', 'replace the contents of a non-empty --out folder')
    .option('--metrics <list>', 'comma-separated test metrics (with --split)')
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
          split?: string;
          model: string;
          set: string[];
          out: string;
          overwrite?: boolean;
          metrics?: string;
          seed: string;
          threads?: string;
          dataDir?: string;
          experiment?: string;
          track: boolean;
          json?: boolean;
        }) => {
          const params = parseSetArguments(opts.model, opts.set);
          const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
          const result = await train({
            dataset: opts.dataset,
            split: opts.split ?? null,
            model: opts.model,
            params,
            out: opts.out,
            overwrite: opts.overwrite === true,
            metrics: opts.metrics
              ?.split(',')
              .map((m) => m.trim())
              .filter(Boolean),
            seed: Number(opts.seed),
            threads: opts.threads ? Number(opts.threads) : undefined,
            dataDir: opts.dataDir,
            tracking,
            experiment: opts.experiment,
            source: 'cli',
            sourceName: `reelab ${process.argv.slice(2).join(' ')}`,
            onEpoch: (e) => note(`epoch ${e.epoch}/${e.epochs} (${e.seconds.toFixed(2)} s)`),
          });
          printResult(
            result,
            opts.json === true,
            (r: typeof result) =>
              `${r.model} trained on ${r.dataset}${r.split ? ` ${r.split}` : ''} (${r.trainRatings} ratings, ` +
              `${r.fitSeconds.toFixed(2)} s) → ${r.out}` +
              (Object.keys(r.metrics).length
                ? `; ${Object.entries(r.metrics)
                    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
                    .join(', ')}`
                : '') +
              (r.runId ? `; MLflow run ${r.runId}` : ''),
          );
        },
      ),
    );
}
