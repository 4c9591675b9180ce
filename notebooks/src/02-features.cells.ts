// %% markdown
// # Feature tables
//
// Content-aware and hybrid models (gbdt, content, hybrid-nn, als-genre) do not see raw ratings only: they use
// tables of movie and user features, and implicit-feedback models turn ratings into confidences. This notebook
// builds those tables with `lib/features` and looks at them.
//
// The tables are computed in an in-memory **DuckDB** database holding the dataset (`rl.features.openFeatureDb`), so you
// can also query them with SQL, as some cells below do. In experiments, build them from the *training* part of
// a split only, so no test rating leaks into a feature.
// %% code parameters
let dataset = 'ml-latest-small';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let movieId = 2959;
let userId = 1;
let experiment = 'reelab-features';
// %% code
import * as rl from './lib/index';
// %% code
const data = rl.loadDataset(dataset, { dataDir: dataDir });
const db = await rl.features.openFeatureDb({ ratings: data.ratings, movies: data.movies, tags: data.tags, users: data.users });
console.log(`${dataset}: ${data.ratings.size} ratings, ${data.movies.size} catalogue movies, ${data.tags ? data.tags.size : 0} tag applications`);
// %% markdown
// ## Movie features
// One row per rated movie: release year (0 when the title has none, flagged by `year_known`), popularity
// (number of ratings), mean rating, and a multi-hot column per genre. The matrix is a typed `Float32Array`
// (rows × columns) ready for models; the same table lives in DuckDB as `movie_features`.
// %% code
const movieTable = await rl.features.movieFeatures(db);
console.log(`movie features: ${movieTable.rows} rows × ${movieTable.columns.length} columns`);
rl.showTable(
  await db.query(
    `SELECT m.title, f.year, f.popularity, round(f.mean_rating, 3) AS mean_rating, m.genres
     FROM movie_features f JOIN movies m USING (movie_id) ORDER BY f.popularity DESC LIMIT 10`,
  ),
  { caption: 'the ten most-rated movies (SQL over the movie_features table)' },
);
// %% markdown
// Popularity and quality are different things: the most-rated movies are well liked, but among rarely rated
// movies mean ratings scatter over the whole scale (a movie with two ratings can average 5.0). This is why
// rating models shrink item biases towards the global mean, and why rankings by mean rating need a minimum
// number of ratings.
// %% code
const pm = await db.query('SELECT f.popularity, f.mean_rating, m.title FROM movie_features f JOIN movies m USING (movie_id) WHERE f.popularity > 0');
const popularityFigure = rl.viz.scatterFigure(
  { x: pm.popularity as number[], y: pm.mean_rating as number[], text: pm.title as string[], name: 'movies' },
  { title: `Mean rating vs number of ratings — ${dataset}`, xTitle: 'number of ratings (log)', yTitle: 'mean rating', logX: true },
);
rl.showFigure(popularityFigure);
// %% markdown
// ## Tag TF-IDF
// Users' free-text tags, lower-cased, become a sparse TF-IDF vector per movie (scikit-learn's smoothed idf,
// rows L2-normalised). Here are the strongest terms of the chosen movie (parameter `movieId`, default 2959 =
// Fight Club, one of the most tagged movies of ml-latest-small).
// %% code
const tfidf = await rl.features.tagTfidf(db);
const movieRow = rl.features.rowOfId(tfidf, movieId);
console.log(`tag vocabulary: ${tfidf.columns.length} terms; movie ${movieId} (${data.movies.titles[rl.data.rowOfMovie(data.movies, movieId)]}) has ${tfidf.indptr[movieRow + 1] - tfidf.indptr[movieRow]} of them`);
rl.showTable(rl.features.topEntries(tfidf, movieRow, 10), { caption: `top tag terms of movie ${movieId}`, digits: 3 });
// %% markdown
// ## User features
// One row per user: activity, mean and variance of their ratings, and per genre how many movies they rated and
// their mean rating there (plus age, gender and occupation in ml-100k / ml-1m). The chosen user (parameter
// `userId`) in full:
// %% code
const userTable = await rl.features.userFeatures(db);
console.log(`user features: ${userTable.rows} rows × ${userTable.columns.length} columns`);
const userRow = rl.features.featureRow(userTable, rl.features.rowOfId(userTable, userId));
rl.showRecord(userRow, { caption: `features of user ${userId}`, digits: 3 });
// %% code
const genreNames = data.movies.genreNames.filter((g) => g !== '(no genres listed)');
const userGenreFigure = rl.viz.barFigure(
  genreNames,
  [{ name: 'ratings', values: genreNames.map((g) => userRow[`genre_count:${g}`]) }],
  { title: `What user ${userId} rates, by genre`, yTitle: 'number of ratings', horizontal: true },
);
rl.showFigure(userGenreFigure);
// %% markdown
// ## From ratings to confidences
// Implicit-feedback models (iALS, LMF, item-KNN) read the user × item matrix after a weighting step. The table
// compares the stored values under common schemes: binarising (optionally dropping low ratings), Hu et al.'s
// linear and log confidences, and the tf-idf / BM25 weightings `implicit` uses for item-KNN, which damp users
// with very many interactions and items everybody has.
// %% code
const R = rl.viz.userItemMatrix(data.ratings);
const schemes = {
  'rating (raw)': R,
  'binary, rating ≥ 4': rl.features.binarize(R, 4),
  'linear 1 + 40·r': rl.features.linearConfidence(R, 40),
  'log 1 + 40·log(1 + r)': rl.features.logConfidence(R, 40, 1),
  'tf-idf': rl.features.tfidfWeight(R),
  'bm25 (K1 100, B 0.8)': rl.features.bm25Weight(R, 100, 0.8),
};
rl.showTable(rl.viz.summarizeValues(schemes), { caption: 'stored values of the user × item matrix', digits: 3 });
// %% code
const bm25Figure = rl.viz.histogramFigure([{ name: 'bm25', values: schemes['bm25 (K1 100, B 0.8)'].values }], {
  title: `BM25 weights of ${dataset}'s ratings`,
  xTitle: 'weight',
  bins: 50,
});
rl.showFigure(bm25Figure);
// %% markdown
// ## Log the tables' shape to MLflow
// Sizes of the tables become metrics of a run, and the figures its artifacts.
// %% code
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const saved = await rl.tracking.withRun(
  tracking,
  { experiment: experiment, runName: `features ${dataset}`, source: 'notebook', sourceName: 'notebooks/02-features.ipynb', dataset: dataset, params: { dataset: dataset } },
  async (run) => {
    await run.logMetrics({
      movie_rows: movieTable.rows,
      movie_columns: movieTable.columns.length,
      user_rows: userTable.rows,
      user_columns: userTable.columns.length,
      tag_terms: tfidf.columns.length,
    });
    return { runId: run.runId, artifacts: await rl.viz.saveFigures(run, { 'popularity-vs-mean': popularityFigure, 'user-genres': userGenreFigure, 'bm25-weights': bm25Figure }) };
  },
);
console.log(saved.runId ? `MLflow run ${saved.runId}: ${saved.artifacts.length} figure files` : 'not tracked');
db.close();
