// %% markdown
// # The model zoo: rating and ranking models side by side, and an ensemble of them
//
// This notebook trains reelab's models on one dataset and one split, compares them on the same held-out
// ratings and logs every run to MLflow:
//
// 1. **rating models** (predict the star rating: RMSE, MAE), with their learning curves;
// 2. **ranking models** (order the catalogue for each user: NDCG@10, precision@10, recall@10 over all items);
// 3. the **ensemble controller**: members fitted concurrently in worker threads, blended with weights
//    learned on a validation slice carved out of the training ratings, reported against each member;
// 4. **leaderboards** with 95 % confidence intervals over users.
//
// Settings are modest so the whole notebook runs in a few minutes on two cores. Every cell calls `lib/`.
// %% code parameters
let dataset = 'ml-latest-small';
let split = 'random:0.2';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let seed = 42;
let threads = 2;
let experiment = 'reelab-models';
// %% code
import * as rl from './lib/index';
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const common = {
  dataset: dataset,
  split: split,
  dataDir: dataDir,
  seed: seed,
  threads: threads,
  tracking: tracking,
  experiment: experiment,
  source: 'notebook' as const,
  sourceName: 'notebooks/03-models.ipynb',
};
console.log(tracking ? `MLflow: ${tracking.trackingUri} (experiment ${experiment})` : 'MLflow: not tracked');
// %% markdown
// ## Rating models
// From the simplest to the most elaborate: regularised biases (`baseline`), biased matrix factorisation by SGD
// (`svd`), SVD++ with implicit feedback (`svdpp`), item-based KNN with baseline correction (`knn-item`), ALS
// with genre biases and genre factors (`als-genre`), the boosted-tree hybrid (`gbdt`) and the TensorFlow.js
// hybrid network (`hybrid-nn`). Each is also ranked (NDCG@10) from its predicted ratings.
// %% code
const ratingModels = [
  { model: 'baseline' },
  { model: 'svd', params: { factors: 50, epochs: 30, learningRate: 0.007, reg: 0.05 } },
  { model: 'svdpp', params: { factors: 20, epochs: 20 } },
  { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
  { model: 'als-genre', params: { factors: 20 } },
  { model: 'gbdt', params: { rounds: 150 } },
  { model: 'hybrid-nn', params: { epochs: 8 } },
];
const rating = await rl.compareRecommenders({
  ...common,
  models: ratingModels,
  metrics: ['rmse', 'mae', 'ndcg@10'],
  onResult: (r) =>
    console.log(`${r.label}: RMSE ${r.metrics.rmse.toFixed(4)}, NDCG@10 ${r.metrics['ndcg@10'].toFixed(4)} (fit ${r.fitSeconds.toFixed(1)} s)`),
});
// %% markdown
// ### Learning curves
// Per-epoch RMSE on the training ratings (solid) and on the held-out ratings (dashed), as the models reported
// them while training (the same numbers are step metrics of each MLflow run).
// %% code
rl.showFigure(rl.viz.learningCurveFigure(rl.workflows.comparisonCurves(rating.rows), 'RMSE', `Learning curves — ${dataset} ${split}`));
// %% markdown
// ## Ranking models
// Models that only order items: most popular first (`popularity`), item-item neighbours with BM25 weighting
// (`item-knn`), implicit ALS (`ials`) and Bayesian personalised ranking (`bpr`). A held-out rating ≥ 4 counts
// as relevant; the user's training items are left out of the lists.
// %% code
const rankingModels = [
  { model: 'popularity' },
  { model: 'item-knn' },
  { model: 'ials', params: { factors: 64, iterations: 15 } },
  { model: 'bpr', params: { factors: 64 } },
];
const ranking = await rl.compareRecommenders({
  ...common,
  models: rankingModels,
  metrics: ['ndcg@10', 'precision@10', 'recall@10'],
  onResult: (r) => console.log(`${r.label}: NDCG@10 ${r.metrics['ndcg@10'].toFixed(4)} (fit ${r.fitSeconds.toFixed(1)} s)`),
});
// %% markdown
// ## The ensemble controller
// `ensemble` holds out 10 % of each user's training ratings, fits its members on the rest — concurrently, one
// member per worker thread — learns non-negative blend weights by ridge least squares with an intercept on the
// held-out slice, then refits the members on all training ratings. Below: each member's weight, its RMSE on the
// validation slice (where the weights were chosen) and on the test ratings, against the blend's.
// %% code
const ensemble = await rl.workflows.compareEnsemble({
  ...common,
  model: 'ensemble',
  members: ratingModels.slice(0, 5),
  metrics: ['rmse', 'mae', 'ndcg@10'],
});
rl.showTable(
  ensemble.table.map((r) => ({
    model: r.label,
    weight: r.weight,
    'validation RMSE': r.validation,
    'test RMSE': r.test.rmse,
    'test NDCG@10': r.test['ndcg@10'],
    'fit s': r.fitSeconds,
  })),
  { caption: 'Ensemble members (weight of the blend row = intercept)' },
);
const bestMember = rl.workflows.rankComparison(ensemble.memberRows, 'rmse')[0];
console.log(
  `ensemble test RMSE ${ensemble.row.metrics.rmse.toFixed(4)} vs best member ${bestMember.label} ${bestMember.metrics.rmse.toFixed(4)} ` +
    `(difference ${(ensemble.row.metrics.rmse - bestMember.metrics.rmse).toFixed(4)}); ` +
    `on the validation slice: ${ensemble.report.blend.toFixed(4)} vs ${ensemble.report.bestMember} (gain ${ensemble.report.gain.toFixed(4)})`,
);
rl.showFigure(
  rl.viz.barFigure(
    ensemble.table.map((r) => r.label),
    [
      { name: 'validation slice', values: ensemble.table.map((r) => r.validation) },
      { name: 'test', values: ensemble.table.map((r) => r.test.rmse) },
    ],
    { title: `Ensemble vs its members — RMSE, ${dataset} ${split}`, yTitle: 'RMSE (lower is better)' },
  ),
);
// %% markdown
// The ranking counterpart, `ensemble-ranking`, blends each member's scores after z-scoring them per user (their
// scales differ: counts, dot products, similarities), with weights from a logistic regression that separates
// the validation items from sampled unseen items.
// %% code
const rankingEnsemble = await rl.workflows.compareEnsemble({
  ...common,
  model: 'ensemble-ranking',
  members: rankingModels.slice(0, 3),
  metrics: ['ndcg@10', 'precision@10', 'recall@10'],
});
rl.showTable(
  rankingEnsemble.table.map((r) => ({
    model: r.label,
    weight: r.weight,
    'validation NDCG@10': r.validation,
    'test NDCG@10': r.test['ndcg@10'],
    'test precision@10': r.test['precision@10'],
  })),
  { caption: 'Ranking ensemble members (validation: every held-out item relevant)' },
);
// %% markdown
// ## Leaderboards
// Bars are per-user means with 95 % confidence intervals (Student's t over users); the tables also give the
// pooled metric (RMSE over all held-out ratings) and each model's MLflow run.
// %% code
const ratingBoard = [...rating.rows, ensemble.row];
rl.showTable(rl.workflows.comparisonTable(ratingBoard, 'rmse'), { caption: `Rating leaderboard — RMSE, ${dataset} ${split}` });
rl.showFigure(rl.workflows.comparisonBarFigure(ratingBoard, 'rmse', `Leaderboard — RMSE, ${dataset} ${split}`));
// %% code
const rankingBoard = [...rating.rows, ensemble.row, ...ranking.rows, rankingEnsemble.row];
rl.showTable(rl.workflows.comparisonTable(rankingBoard, 'ndcg@10'), { caption: `Ranking leaderboard — NDCG@10, ${dataset} ${split}` });
rl.showFigure(rl.workflows.comparisonBarFigure(rankingBoard, 'ndcg@10', `Leaderboard — NDCG@10, ${dataset} ${split}`));
const bestRating = rl.workflows.rankComparison(ratingBoard, 'rmse')[0];
const bestRanking = rl.workflows.rankComparison(rankingBoard, 'ndcg@10')[0];
console.log(`best RMSE: ${bestRating.label} ${bestRating.metrics.rmse.toFixed(4)}`);
console.log(`best NDCG@10: ${bestRanking.label} ${bestRanking.metrics['ndcg@10'].toFixed(4)}`);
// %% markdown
// ## Cold start: a new user and a new movie
// No retraining. A **new user** gives ten ratings; the model solves that user's vector against its fixed item
// factors (for iALS: the Hu–Koren–Volinsky objective over all items) and ranks the catalogue — the same path as
// `reelab recommend --ratings my-ratings.json` and the API's `POST /recommendations`. Ten liked horror films
// should push horror up; ten liked comedies, comedy.
// %% code
await rl.train({
  dataset: dataset,
  model: 'ials',
  params: { factors: 32, iterations: 10, seed: seed },
  out: 'notebooks/out/models/ials',
  overwrite: true,
  dataDir: dataDir,
  tracking: null,
});
const service = await rl.serving.RecommendationService.open('notebooks/out/models/ials');
for (const genre of ['Horror', 'Comedy']) {
  const profile = service.popularInGenre([genre], 10).map((m) => ({ movieId: m.movieId, rating: 5 }));
  const started = performance.now();
  const recs = service.recommendForRatings(profile, 10, true);
  const ms = performance.now() - started;
  rl.showTable(
    recs.items.map((m, rank) => ({
      rank: rank + 1,
      title: m.title,
      genres: m.genres.join(', '),
      'because you liked': (m.because ?? []).map((b) => b.title).join('; '),
    })),
    { caption: `New user who loved 10 ${genre} films → top 10 (${recs.method}, ${ms.toFixed(0)} ms)` },
  );
}
// %% markdown
// A **new movie** that no one has rated yet gets a predicted rating from its content alone (the
// "predict for a new movie" use case): the hybrid network's content tower reads its genres, title words and year, while
// its collaborative embedding is that of an unseen movie.
// %% code
const hybrid = new rl.models.HybridNnModel({ epochs: 6, seed: seed });
const hybridData = rl.loadRatings(dataset, { dataDir: dataDir });
const catalogue = rl.data.loadCatalogue(dataset, hybridData.itemIds, { dataDir: dataDir });
await hybrid.fit(hybridData, { threads: threads, catalogue: catalogue });
// A one-movie catalogue of movies nobody rated (no item ids): what `predictNewMovie` reads the content from.
const newMovie = rl.data.movieCatalogue(
  [{ movieId: 1000000, title: 'The Haunting of Hill Manor (2026)', year: 2026, genres: ['Horror', 'Thriller'] }],
  null,
  'new movies',
);
rl.showTable(
  [1, 2, 3, 4, 5].map((userId) => ({
    user: userId,
    'predicted rating of the new horror movie': hybrid.predictNewMovie(hybridData.userIds.index(userId), newMovie, 0),
  })),
);
