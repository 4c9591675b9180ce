// %% markdown
// # reelab quickstart
//
// One pass through the whole workbench: load a MovieLens dataset, look at it, fit a regularised-bias baseline,
// measure its RMSE on a held-out split, and log the run to MLflow. Every cell calls `lib/`; nothing here is
// logic you could not also run from the `reelab` CLI.
//
// The library is one import, `rl`, with a namespace per `lib/` folder — `rl.data`, `rl.features`, `rl.models`,
// `rl.eval`, `rl.search`, `rl.tracking`, `rl.viz`, `rl.report`, `rl.workflows`, … (type `rl.` and then `rl.data.`
// to browse). The steps of this quickstart (`rl.loadRatings`, `rl.evaluate`, `rl.showTable`, …) are also at the
// top level.
//
// The next cell holds the parameters (the main job and the tests override them).
// %% code parameters
let dataset = 'ml-100k';
let split = 'u1';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let experiment = 'reelab-quickstart';
// %% code
import * as rl from './lib/index';
// %% markdown
// ## The data
// Counts and ranges of the dataset, straight from the GroupLens files (never copied into this repository).
// %% code
const summary = rl.describeDataset(dataset, { dataDir: dataDir });
rl.showTable([summary], { columns: ['dataset', 'users', 'items', 'catalogueMovies', 'ratings', 'density', 'ratingMean'] });
// %% code
const ratings = rl.loadRatings(dataset, { dataDir: dataDir });
rl.showFigure(rl.viz.ratingDistributionFigure(ratings.ratings, `Rating distribution — ${dataset}`));
// %% markdown
// ## A baseline, evaluated and tracked
// `baseline` predicts μ + b_u + b_i with regularised biases (Surprise's BaselineOnly). `rl.evaluate` loads the
// split, fits, reports per-epoch RMSE and logs params, learning curve and metrics to MLflow when a server is up.
// %% code
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const result = await rl.evaluate({
  dataset: dataset,
  split: split,
  model: 'baseline',
  dataDir: dataDir,
  tracking: tracking,
  experiment: experiment,
  source: 'notebook',
  sourceName: 'notebooks/00-quickstart.ipynb',
});
console.log(`RMSE on ${dataset} ${split}: ${result.metrics.rmse.toFixed(4)} (MAE ${result.metrics.mae.toFixed(4)})`);
console.log(result.runUrl ? `MLflow run: ${result.runUrl}` : 'not tracked');
// %% code
rl.showFigure(
  rl.viz.learningCurveFigure(
    [
      { name: 'train', values: result.epochs.map((e) => e.values.train_rmse ?? Number.NaN) },
      { name: 'test', values: result.epochs.map((e) => e.values.test_rmse ?? Number.NaN) },
    ],
    'RMSE',
    `Baseline learning curve — ${dataset} ${split}`,
  ),
);
// %% markdown
// ## Recommendations
// Fit on all ratings and list the ten movies with the highest predicted rating that user 1 has not rated yet.
// %% code
const model = new rl.models.BaselineModel();
await model.fit(ratings);
const movies = new Map(rl.data.loadMovies(dataset, { dataDir: dataDir }).map((m) => [m.movieId, m]));
const top = model.recommend(ratings.userIds.index(1), 10);
rl.showTable(
  Array.from(top.items, (item, rank) => {
    const movie = movies.get(ratings.itemIds.id(item));
    return { rank: rank + 1, movieId: movie?.movieId, title: movie?.title, score: top.scores[rank] };
  }),
);
