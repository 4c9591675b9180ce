// %% markdown
// # Inside a factor model: embeddings, neighbours, explanations
//
// A matrix-factorisation model places every movie (and every user) at a point in a k-dimensional space so that
// a user's score for a movie is the dot product of their vectors. Nobody tells the model about genres, yet movies
// watched by the same people end up close together — and those tend to share genres. This notebook trains
// such a model, draws its item space as a 2-D **UMAP** map coloured by genre, measures how strongly genres
// cluster, lists a movie's nearest neighbours and explains a recommendation by the user's own movies.
//
// Default: implicit-feedback ALS (`ials`, Hu, Koren & Volinsky 2008) on all of ml-latest-small, every rating
// counted as an interaction. The run is logged to MLflow with its figures.
// %% code parameters
let dataset = 'ml-latest-small';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let model = 'ials';
let modelParams: Record<string, unknown> = { factors: 64, iterations: 15, regularization: 0.01, computeLoss: true, seed: 42 };
let maxItems = 3000;
let movieId = 1;
let userId = 1;
let seed = 42;
let threads = 2;
let experiment = 'reelab-embeddings';
// %% code
import * as rl from './lib/index';
// %% markdown
// ## Train the model
// The progress bar below updates in place; the per-iteration training loss goes to MLflow as a step metric.
// %% code
const data = rl.loadDataset(dataset, { dataDir: dataDir });
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const fitted = await rl.viz.fitFactorModel(data.ratings, {
  model: model,
  params: modelParams,
  threads: threads,
  tracking: tracking,
  experiment: experiment,
  dataset: dataset,
  seed: seed,
  source: 'notebook',
  sourceName: 'notebooks/05-embeddings.ipynb',
});
console.log(`${model}: ${fitted.factors.k} factors for ${data.ratings.nUsers} users and ${data.ratings.nItems} movies, fitted in ${fitted.fitSeconds.toFixed(1)} s`);
const figures: Record<string, rl.viz.PlotlyFigure> = {};
if (fitted.epochs.some((e) => e.values.loss !== undefined || e.values.train_rmse !== undefined)) {
  figures['learning-curve'] = rl.viz.learningCurveFigure(
    [{ name: `${model} training`, values: fitted.epochs.map((e) => e.values.loss ?? e.values.train_rmse), run: model, kind: 'train' }],
    fitted.epochs[0].values.loss !== undefined ? 'training loss' : 'train RMSE',
    `${model} on ${dataset}: training curve`,
  );
  rl.showFigure(figures['learning-curve']);
}
// %% markdown
// ## The movie map
// UMAP lays the item vectors out in 2-D so that each movie's nearest neighbours (cosine, computed exactly) stay
// close. To keep the map readable and the vectors meaningful, only the `maxItems` most-rated movies are drawn —
// the rule is in the subtitle. Each movie is coloured by its *main genre*: MovieLens lists genres
// alphabetically, so we take the rarest of a movie's genres (the most specific one: Toy Story is "Animation",
// not "Adventure"). Marker size grows with the number of ratings; hover for title, year and genres. The layout
// is seeded, so the same parameters draw the same map. With many genres on one map, **double-click a genre in
// the legend** to show it alone: horror, animation, documentaries or musicals then stand out as regions.
// %% code
const map = await rl.viz.itemEmbeddingMap(fitted.factors, data.ratings, data.movies, {
  maxItems: maxItems,
  dataset: dataset,
  model: model,
  umap: { seed: seed },
});
figures['movie-map'] = map.figure;
rl.showFigure(map.figure);
// %% markdown
// ### Do genres cluster?
// For every movie on the map, look at its 10 nearest neighbours *on the map* and count how many share its main
// genre. If positions had nothing to do with genre, that rate would be the chance that two random movies share
// a main genre. The same measure in the original factor space shows how much of the structure the 2-D picture
// keeps.
// %% code
const agree = map.mapAgreement;
console.log(`same main genre among the 10 nearest map neighbours: ${(100 * agree.rate).toFixed(1)}% (random pairing: ${(100 * agree.randomRate).toFixed(1)}%, ${agree.lift.toFixed(2)}× chance)`);
console.log(`same measure in the ${fitted.factors.k}-d factor space (cosine): ${(100 * map.factorAgreement.rate).toFixed(1)}%`);
rl.showTable(
  agree.byLabel.map((g) => ({ genre: g.label, movies: g.points, 'same-genre neighbours': g.rate, 'at random': g.randomRate })),
  { caption: 'per main genre: share of map neighbours in the same genre', digits: 3 },
);
// %% markdown
// ## Nearest neighbours of a movie
// The movies whose vectors point in the most similar direction (cosine similarity) to the chosen one
// (parameter `movieId`, default 1 = Toy Story), among movies with at least 20 ratings — rarely rated movies
// have noisy vectors.
// %% code
const neighbours = rl.viz.similarMovies(fitted.factors, data.ratings, data.movies, movieId, { count: 10, minRatings: 20 });
rl.showTable(neighbours, { caption: `movies closest to ${data.movies.titles[rl.data.rowOfMovie(data.movies, movieId)]}`, digits: 3 });
figures['neighbour-similarity'] = rl.viz.movieSimilarityHeatmap(
  fitted.factors,
  data.ratings,
  data.movies,
  [movieId, ...neighbours.map((n) => n.movieId)],
  'Cosine similarity among the movie and its neighbours',
);
rl.showFigure(figures['neighbour-similarity']);
// %% markdown
// ## Why was this recommended?
// The model's top recommendations for a user (parameter `userId`), leaving out what they already rated. A factor
// model recommends a movie because it lies close to movies the user interacted with; listing the user's rated
// movies nearest to the top recommendation makes that visible.
// %% code
const recs = rl.viz.recommendMovies(fitted.model, data.ratings, data.movies, userId, 10);
rl.showTable(recs, { caption: `top 10 for user ${userId}`, digits: 3 });
const why = rl.viz.explainRecommendation(fitted.factors, data.ratings, data.movies, userId, recs[0].movieId, 5);
rl.showTable(why.because, { caption: `user ${userId}'s rated movies closest to "${why.title}"`, digits: 3 });
console.log(`"${why.title}" is recommended to user ${userId} mostly because of "${why.because[0].title}" (rated ${why.because[0].rating}, cosine ${why.because[0].similarity.toFixed(2)})`);
// %% markdown
// ## The user map
// The same picture for users: UMAP of the user vectors, each user coloured by the genre they rate most *relative
// to everyone else* (their share of ratings in the genre over the genre's overall share).
// %% code
const userMap = await rl.viz.userEmbeddingMap(fitted.factors, data.ratings, data.movies, { dataset: dataset, model: model, umap: { seed: seed } });
figures['user-map'] = userMap.figure;
rl.showFigure(userMap.figure);
// %% markdown
// ## Log the figures and close the run
// Every figure goes to the run's artifacts (standalone HTML with plotly.js embedded, plus PNG when headless
// Chromium is installed), with the clustering numbers as metrics.
// %% code
if (fitted.run) {
  await fitted.run.logMetrics({
    map_same_genre_rate: agree.rate,
    map_random_rate: agree.randomRate,
    factor_same_genre_rate: map.factorAgreement.rate,
    map_items: map.items.length,
  });
  const artifacts = await rl.viz.saveFigures(fitted.run, figures);
  await fitted.run.end('FINISHED');
  console.log(`MLflow run ${fitted.run.runId}: ${artifacts.length} figure files`);
} else {
  console.log('not tracked');
}
