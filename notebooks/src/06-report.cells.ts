// %% markdown
// # An experiment report, rebuilt from MLflow
//
// `reelab experiment <config>` writes `experiments/reports/<name>.md` and `.html`; everything in them comes
// from MLflow: the parent run's config and trial list, each trial run's params, metrics, per-epoch histories and
// per-user values. This notebook rebuilds such a report from a run id alone (no model is trained) and shows its
// leaderboard and plots.
//
// The next cell holds the parameters: a parent run id, or an experiment whose latest search is used.
// %% code parameters
let runId = '';
let experiment = 'reelab-grid-svd';
let outDir = 'notebooks/out/reports';
// %% code
import * as rl from './lib/index';
// %% code
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
if (!tracking) throw new Error('no MLflow server: set MLFLOW_TRACKING_URI or run `npm run mlflow`');
const parent = runId || (await rl.report.latestSearchRun(tracking, experiment));
const data = await rl.report.loadReportData(tracking, parent);
const report = rl.report.renderReport(data);
console.log(`report "${report.name}" from run ${parent}: ${data.trials.length} trials, ${report.figures.length} figures`);
// %% markdown
// ## Setup
// %% code
rl.showRecord({
  dataset: data.config.dataset,
  splits: data.config.splits.join(', '),
  validation: data.config.validation?.join(', ') ?? 'none',
  metrics: data.config.metrics.join(', '),
  seed: data.config.seed,
  'config file': data.configPath ?? 'in memory',
  'git commit': data.gitCommit ?? 'unknown',
});
// %% markdown
// ## Leaderboard
// %% code
console.log(report.model.ciMethod);
rl.showTable(rl.report.leaderboardRows(report.model));
// %% markdown
// ## Plots
// %% code
for (const f of report.figures) rl.showFigure(f.figure);
// %% markdown
// ## The report files
// %% code
const files = rl.report.writeReport(report, outDir);
console.log(`wrote ${files.markdown} and ${files.html}`);
