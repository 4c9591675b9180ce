import { Command, Option } from 'commander';
import { action } from './output';

// Start-up cost: this file names every command with its description and options (so `--help` of each is
// complete) and `require`s a command's implementation module (lib/cli/<command>.ts, which imports the library
// parts it needs) only when that command runs. It imports nothing but commander and ./output itself; keep it so.
// The two option descriptions that need the library (model names, tensor backends) are computed when a help
// text shows them.

/** A command's implementation, loaded when it runs; errors (also a failing load) are reported by `action`. */
function lazy<A extends unknown[]>(load: () => (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return action(async (...args: A) => load()(...args));
}

/** An option whose description is computed the first time a help text shows it. */
function lazyOption(flags: string, describe: () => string): Option {
  const option = new Option(flags);
  let text: string | undefined;
  Object.defineProperty(option, 'description', {
    get: () => {
      text ??= describe();
      return text;
    },
    configurable: true,
    enumerable: true,
  });
  return option;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const modelOption = () =>
  lazyOption(
    '--model <name>',
    () =>
      `registry model: ${(require('../models/registry') as typeof import('../models/registry')).modelNamesHelp()}`,
  ).makeOptionMandatory();

/** Default DuckDB file of `reelab batch` (named here so that its help needs no import). */
export const DEFAULT_BATCH_DUCKDB = 'batch-recommendations.duckdb';

export function buildProgram(): Command {
  const program = new Command('reelab')
    .description('reelab: a TypeScript research workbench for movie recommendation')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerData(program);
  registerEvaluate(program);
  registerDoctor(program);
  registerMlflow(program);
  registerQuickstart(program);
  registerTrain(program);
  registerRecommend(program);
  registerServe(program);
  registerBatch(program);
  registerSearch(program);
  registerExperiment(program);
  registerReport(program);
  (require('./models') as typeof import('./models')).registerModelsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

function registerData(program: Command): void {
  const cli = () => require('./data') as typeof import('./data');
  const data = program.command('data').description('MovieLens datasets (and IMDb dumps): fetch and describe');
  data
    .command('fetch')
    .description(
      'download a MovieLens release, verify its checksum and unpack it into the data dir; `imdb`: the five IMDb ' +
        'dumps (https://datasets.imdbws.com, size and gzip checked) into <data-dir>/imdb/. IMDb allows ' +
        'personal and non-commercial use only',
    )
    .argument(
      '<dataset>',
      'ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small, ml-latest, or imdb',
    )
    .option('--data-dir <dir>', 'folder to unpack into (default: $REELAB_DATA_DIR or ./data)')
    .option(
      '--archive <zip>',
      'use this already-downloaded archive instead of downloading (verified the same way)',
    )
    .option('--keep-archive', 'keep the verified zip as <data-dir>/<dataset>.zip')
    .option(
      '--url <url>',
      'download from this URL (a mirror) instead of GroupLens; for imdb the base URL of the dumps',
    )
    .option(
      '--sha256 <hex>',
      "expected sha256 of the archive instead of the catalogue's ('none': size and CRCs only)",
    )
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().dataFetchCommand));
  data
    .command('describe')
    .description('counts and ranges of a dataset, and its IMDb match when <data-dir>/imdb/ holds the dumps')
    .requiredOption('--dataset <name>', 'ml-100k, ml-latest-small, …, or synthetic:<ratings>')
    .option('--data-dir <dir>', 'folder holding <dataset>/ (default: $REELAB_DATA_DIR or ./data)')
    .option('--seed <n>', 'seed for synthetic data', '42')
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().dataDescribeCommand));
  data
    .command('splits')
    .description('list the split names that --split accepts')
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().dataSplitsCommand));
}

function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('fit a model on a split and report metrics (logged to MLflow when a server is available)')
    .requiredOption('--dataset <name>', 'dataset name')
    .requiredOption('--split <split>', 'u1…u5, ua, ub, random:<fraction>')
    .addOption(modelOption())
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
    .action(lazy(() => (require('./evaluate') as typeof import('./evaluate')).evaluateCommand));
}

function registerDoctor(program: Command): void {
  const backends = () => (require('../compute/tensor') as typeof import('../compute/tensor')).TENSOR_BACKENDS;
  program
    .command('doctor')
    .description(
      'check node, the Python venv, MLflow, the tslab kernel and the tensor backend (with its GFLOP/s)',
    )
    .addOption(lazyOption('--backend <name>', () => `auto, ${backends().join(', ')}`).default('auto'))
    .option('--size <n>', 'matMul size for the GFLOP/s measurement', '1024')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./doctor') as typeof import('./doctor')).doctorCommand));
}

function registerMlflow(program: Command): void {
  const cli = () => require('./mlflow') as typeof import('./mlflow');
  const mlflow = program.command('mlflow').description('the MLflow tracking server, its runs and the outbox');
  mlflow
    .command('server')
    .description(
      'run the MLflow server from .venv (SQLite + artifacts under experiments/mlflow) until Ctrl-C',
    )
    .option('--port <n>', 'port', process.env.REELAB_MLFLOW_PORT ?? '5000')
    .option('--host <host>', 'interface to bind (loopback by default)', '127.0.0.1')
    .option('--store <dir>', 'folder for mlflow.db and artifacts/ (default experiments/mlflow)')
    .action(lazy(() => cli().mlflowServerCommand));
  mlflow
    .command('sync')
    .description(
      'replay the outbox (records kept while MLflow was unreachable) idempotently; exit 3 while some wait',
    )
    .option('--to <uri>', 'replay every file to this server instead of the one each file names')
    .option('--outbox <dir>', 'outbox folder (default: REELAB_OUTBOX_DIR or experiments/outbox)')
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().mlflowSyncCommand));
  mlflow
    .command('status')
    .description('is the tracking server up, which version, and what waits in the outbox')
    .option('--tracking-uri <uri>', 'server (default: MLFLOW_TRACKING_URI or the local default)')
    .option('--outbox <dir>', 'outbox folder')
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().mlflowStatusCommand));
  mlflow
    .command('runs')
    .description('list the runs of an experiment (params, latest metrics, tags)')
    .requiredOption('--experiment <name>', 'experiment name')
    .option('--filter <expr>', 'MLflow search filter, e.g. "metrics.rmse < 0.95 and params.model = \'svd\'"')
    .option('--order-by <list>', 'comma-separated, e.g. "metrics.rmse ASC"')
    .option('--max <n>', 'at most this many runs')
    .option('--tracking-uri <uri>', 'server (default: MLFLOW_TRACKING_URI or the local default)')
    .option('--json', 'print one JSON object')
    .action(lazy(() => cli().mlflowRunsCommand));
}

function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description(
      'the main job: MLflow up, quickstart experiment on the data found, quickstart notebook executed',
    )
    .option('--data-dir <dir>', 'folder holding <dataset>/ (default: $REELAB_DATA_DIR or ./data)')
    .option('--serve', 'keep the MLflow UI running until Ctrl-C (default when run in a terminal, not in CI)')
    .option('--no-serve', 'stop a server this command started and exit when done')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./quickstart') as typeof import('./quickstart')).quickstartCommand));
}

function registerTrain(program: Command): void {
  program
    .command('train')
    .description('fit a model (on all ratings, or a split’s training part) and save a servable model folder')
    .requiredOption('--dataset <name>', 'dataset name')
    .option('--split <split>', 'fit on this split’s training part and report test metrics')
    .addOption(modelOption())
    .option('--set <key=value>', 'model hyperparameter (repeatable)', collect, [] as string[])
    .requiredOption('--out <dir>', 'folder to write the model to (must be empty)')
    .option('--overwrite', 'replace the contents of a non-empty --out folder')
    .option('--metrics <list>', 'comma-separated test metrics (with --split)')
    .option('--seed <n>', 'seed for splits, initialisation and sampling', '42')
    .option('--threads <n>', 'worker threads')
    .option('--data-dir <dir>', 'folder holding <dataset>/')
    .option('--experiment <name>', 'MLflow experiment name')
    .option('--register <name>', 'register the logged model as a new MLflow Model Registry version')
    .option('--alias <alias>', 'point this alias (e.g. champion) at the new version (with --register)')
    .option('--no-track', 'do not log to MLflow')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./train') as typeof import('./train')).trainCommand));
}

function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description('top-k movies for a known user, or for a new user from a ratings file (cold start)')
    .requiredOption(
      '--model <dir|run-id|models:/NAME@ALIAS>',
      'model folder from `reelab train`, an MLflow run id, or a registry model (models:/NAME@ALIAS, models:/NAME/3)',
    )
    .option('--user <id>', 'MovieLens user id')
    .option('--ratings <file.json>', 'new user: JSON array of {"movieId", "rating"}')
    .option('-k, --k <n>', 'list length', '10')
    .option('--explain', 'add the rated movies most similar to each recommendation')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./recommend') as typeof import('./recommend')).recommendCommand));
}

function registerServe(program: Command): void {
  program
    .command('serve')
    .description('HTTP API (+ OpenAPI page at /docs and a web page at /) over a saved model')
    .requiredOption(
      '--model <dir|run-id|models:/NAME@ALIAS>',
      'model folder from `reelab train`, an MLflow run id, or a registry model (models:/NAME@ALIAS, models:/NAME/3)',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8000')
    .option('--max-k <n>', 'largest list length a request may ask for', '100')
    .option('--body-limit <bytes>', 'largest request body', String(64 * 1024))
    .option('--log', 'log every request (JSON lines on stdout)')
    .action(lazy(() => (require('./serve') as typeof import('./serve')).serveCommand));
}

function registerBatch(program: Command): void {
  program
    .command('batch')
    .description(
      'top-k recommendations for every user into DuckDB (default), Parquet and/or PostgreSQL, in one transaction; ' +
        "rows carry the model's registered name, version and run id, and a re-run replaces that version's rows",
    )
    .requiredOption(
      '--model <dir|run-id|models:/NAME@ALIAS>',
      'model folder from `reelab train`, an MLflow run id, or a registry model (models:/NAME@ALIAS, models:/NAME/3)',
    )
    .option('-k, --k <n>', 'recommendations per user', '10')
    .option(
      '--duckdb <file>',
      `DuckDB database file (default ${DEFAULT_BATCH_DUCKDB} when no other target is given)`,
    )
    .option('--parquet <dir>', 'folder for users/movies/batch_recommendations .parquet files')
    .option('--postgres <url>', 'PostgreSQL connection URL (postgres://user:pass@host:port/db)')
    .option(
      '--to <target>',
      'a target by its form: postgres://…, duckdb:<file> (or a *.duckdb file), parquet:<dir> (repeatable)',
      collect,
      [] as string[],
    )
    .option('--label <name>', 'value of the model column (default: the registered name, else the model name)')
    .option(
      '--replace-all',
      "replace every row of the label; default: only the rows of this model's name and version",
    )
    .option('--threads <n>', 'worker threads for scoring factor models', '1')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./batch') as typeof import('./batch')).batchCommand));
}

/** The options `search` and `experiment` share. */
function addSearchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--threads <n>',
      'trials run at once, one worker thread each (default: config, else one per core)',
    )
    .option('--data-dir <dir>', 'folder holding <dataset>/ (default REELAB_DATA_DIR, else ./data)')
    .option('--inline', 'run trials on the main thread instead of worker threads')
    .option('--dry-run', 'validate the config and print the plan; run nothing')
    .option('--fresh', 'recompute every trial even if MLflow has it (earlier runs are marked superseded)')
    .option('--no-track', 'do not log to MLflow (nothing is reused either)')
    .option('--json', 'print one JSON object');
}

function registerSearch(program: Command): void {
  addSearchOptions(
    program
      .command('search')
      .description(
        'grid / random search from an experiment config: parallel trials, nested MLflow runs, resumable',
      )
      .argument('<config>', 'experiment config (experiments/*.yaml)'),
  ).action(lazy(() => (require('./search') as typeof import('./search')).searchCommand));
}

function registerExperiment(program: Command): void {
  addSearchOptions(
    program
      .command('experiment')
      .description(
        'run an experiment config end to end: search (resumed from MLflow), then experiments/reports/<name>.md/.html',
      )
      .argument('<config>', 'experiment config (experiments/*.yaml)')
      .option('--out <dir>', 'report folder (default experiments/reports)'),
  ).action(lazy(() => (require('./experiment') as typeof import('./experiment')).experimentCommand));
}

function registerReport(program: Command): void {
  program
    .command('report')
    .description('rebuild an experiment report from MLflow alone (no recomputation)')
    .requiredOption('--run <id>', 'the parent run of `reelab search` / `reelab experiment`')
    .option('--out <dir>', 'report folder (default experiments/reports)')
    .option('--tracking-uri <uri>', 'MLflow server (default MLFLOW_TRACKING_URI, else the local default)')
    .option('--json', 'print one JSON object')
    .action(lazy(() => (require('./report') as typeof import('./report')).reportCommand));
}
