// %% markdown
// # Hyperparameter search
//
// A small random search of iALS on ml-latest-small, run the way `reelab search` runs an experiment config:
// trials in parallel on worker threads, one MLflow parent run with a nested run per trial, and every trial
// identified by a hash of its data, split, model, params and seed, so running this notebook again reuses the
// finished trials instead of training them again.
//
// The next cell holds the parameters (the tests override them).
// %% code parameters
let dataset = 'ml-latest-small';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let experiment = 'reelab-nb-grid-search';
let trials = 6;
let seed = 42;
// %% code
import * as rl from './lib/index';
// %% markdown
// ## The experiment
// The same structure as a YAML file in `experiments/`; typed as `rl.config.ExperimentConfigInput`, so the editor
// completes the fields. Configurations are compared on a temporal validation part (each user's latest 10% of
// training ratings); the best one is refitted on the whole training part and scored on the test part.
// %% code
const config: rl.config.ExperimentConfigInput = {
  name: 'nb-grid-search',
  dataset: dataset,
  split: 'temporal-user:0.2',
  validation: { split: 'temporal-user:0.1' },
  seed: seed,
  metrics: ['ndcg@10', 'recall@10'],
  relevance: 4,
  search: { strategy: 'random', trials: trials },
  models: [
    {
      model: 'ials',
      params: { iterations: 6 },
      space: {
        factors: { int: [16, 96], step: 16 },
        regularization: { logUniform: [0.001, 10] },
        alpha: [1, 5, 20],
      },
    },
  ],
  mlflow: { experiment: experiment },
};
// %% code
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const out = await rl.workflows.searchWithReport(config, { tracking: tracking, dataDir: dataDir, runSource: 'notebook' });
const counts = out.result.counts;
console.log(
  `${counts.total} trials: ${counts.ran} ran, ${counts.reused} reused; MLflow parent run: ${out.result.parentRunId ?? 'not tracked'}`,
);
// %% markdown
// ## Every configuration
// Mean validation NDCG@10 of each sampled configuration (one validation trial each here).
// %% code
rl.showTable(
  out.report.model.configs[0]!.map((c) => ({ ...c.searched, 'ndcg@10': c.score, best: c.best ? '✓' : '' })),
);
// %% markdown
// ## Parallel coordinates and parameter vs metric
// One line per configuration through its parameter values (log axes for parameters spanning decades) and its
// score; then the score against each parameter.
// %% code
for (const f of out.report.figures.filter((x) => x.id.startsWith('parallel-'))) rl.showFigure(f.figure);
// %% code
for (const f of out.report.figures.filter((x) => x.id.startsWith('param-'))) rl.showFigure(f.figure);
// %% markdown
// ## The chosen configuration on the test part
// %% code
rl.showTable(rl.report.leaderboardRows(out.report.model));
