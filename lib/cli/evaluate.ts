import type { Command } from 'commander';
import { parseSetArguments } from '../models/registry';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
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
    .option(
      '--metrics <list>',
      'comma-separated metric names: rmse, mae, precision@K, recall@K, ndcg@K, ndcg-graded@K, map@K, hr@K, mrr, ' +
        'mrr@K, auc, coverage, novelty, diversity, popularity-bias (default: rmse,mae for rating models, ' +
        'ndcg@10,precision@10,recall@10 for ranking models)',
    )
    .option(
      '--protocol <list>',
      'ranking protocols: full (all items) and/or sampled:<N> (N sampled negatives)',
      'full',
    )
    .option(
      '--relevance <rating>',
      'held-out rating ≥ this is relevant for ranking metrics ("all": every one)',
      '4',
    )
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
          metrics?: string;
          protocol: string;
          relevance: string;
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
            metrics: opts.metrics === undefined ? undefined : splitList(opts.metrics),
            protocols: splitList(opts.protocol),
            relevance: parseRelevance(opts.relevance),
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
          const { epochs: _epochs, protocols: _perUser, ...contract } = result;
          printResult(
            contract,
            opts.json === true,
            (r: typeof contract) =>
              `${r.model} on ${r.dataset} ${r.split}: ${Object.entries(r.metrics)
                .map(([k, v]) => `${k} ${v.toFixed(4)}`)
                .join(
                  ', ',
                )} [${r.protocol}${r.relevance !== null ? `, relevant: rating ≥ ${r.relevance}` : ''}] ` +
              `(fit ${r.fitSeconds.toFixed(2)} s)${r.runId ? `, MLflow run ${r.runId}` : ''}`,
          );
        },
      ),
    );
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
}

function parseRelevance(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'all') return null;
  const v = Number(t);
  if (t === '' || !Number.isFinite(v))
    throw new ConfigError('--relevance', `expected a rating (e.g. 4) or "all", got "${text}"`);
  return v;
}
