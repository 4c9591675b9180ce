// %% markdown
// # Exploring a MovieLens dataset
//
// Before fitting any model it pays to look at the data: how people rate, how unevenly attention is spread
// over movies and users, and how the catalogue and the rating activity changed over time. Every number and
// picture below comes from `lib/` (`rl.data`, `rl.features`, `rl.viz`); the notebook only strings the calls
// together, so each step can be reused in scripts and reports.
//
// By default this runs on **ml-latest-small** (610 users, 100,836 ratings of 9,724 movies, 1996–2018). Change
// the parameters to look at another release (`ml-100k`, `ml-1m`, … or `synthetic:<n>`).
// %% code parameters
let dataset = 'ml-latest-small';
let dataDir = process.env.REELAB_DATA_DIR ?? 'data';
let experiment = 'reelab-explore';
// %% code
import * as rl from './lib/index';
// %% markdown
// ## What is in the files
// `loadDataset` reads ratings, the movie catalogue and, where the release has them, tags and user
// demographics. Users and movies get dense indices (`Interactions`), and the catalogue is aligned with them.
// %% code
const data = rl.loadDataset(dataset, { dataDir: dataDir });
const summary = rl.describeDataset(dataset, { dataDir: dataDir });
rl.showRecord(summary, { caption: `${dataset}: counts and ranges` });
// %% markdown
// ## How people rate
// Ratings are on a half-star scale from 0.5 to 5 in the newer releases (whole stars in ml-100k / ml-1m). The
// distribution is skewed towards the top: people mostly rate what they chose to watch, and whole stars are far
// more popular than half stars. A model that predicts the global mean already starts from a strong prior.
// %% code
const figures: Record<string, rl.viz.PlotlyFigure> = {};
figures['rating-distribution'] = rl.viz.ratingDistributionFigure(data.ratings.ratings, `Rating distribution — ${dataset}`);
rl.showFigure(figures['rating-distribution']);
console.log(`mean rating ${data.ratings.mean().toFixed(3)} over ${data.ratings.size} ratings`);
// %% markdown
// ## The long tail of movie popularity
// A few movies collect most of the ratings; most movies have only a handful. The left panel shows ratings per
// movie by popularity rank (log scale); the right one how much of all rating activity the top x % of movies
// cover. This is why popularity is a hard baseline to beat on accuracy, and why coverage and novelty matter
// when comparing recommenders.
// %% code
const itemCounts = data.ratings.itemCounts();
figures['long-tail'] = rl.viz.longTailFigure(itemCounts, { title: `Long tail of movie popularity — ${dataset}`, entity: 'movies' });
rl.showFigure(figures['long-tail']);
const shares = rl.viz.longTailShares(itemCounts, [0.01, 0.1, 0.2, 0.5]);
rl.showTable(shares, { caption: 'share of all ratings held by the most-rated movies', digits: 3 });
console.log(`top 10% of movies (${shares[1].items}) hold ${(100 * shares[1].share).toFixed(1)}% of the ratings`);
// %% markdown
// ## How active users are
// Activity is long-tailed too. The bins are logarithmic (each covers the same ratio of counts) and labelled with
// the integer range they hold. MovieLens releases only keep users with at least 20 ratings, so the histogram
// starts there for ml-latest-small and ml-100k.
// %% code
const userCounts = data.ratings.userCounts();
figures['user-activity'] = rl.viz.activityHistogramFigure(userCounts, { title: `Ratings per user — ${dataset}` });
rl.showFigure(figures['user-activity']);
rl.showTable(rl.viz.summarizeValues({ 'ratings per user': userCounts, 'ratings per movie': itemCounts }), { digits: 1 });
// %% markdown
// ## Genres over time
// Two views of the same question. First, what people rated: each genre's share of the year's ratings (by the
// date of the rating). A movie in three genres counts in each, so a year's shares add up to more than 100 %.
// The eight most-rated genres are shown; click a legend entry to show the others. Years with fewer than 100
// ratings are left out, their shares are noise.
// %% code
figures['genres-by-rating-year'] = rl.viz.genreTrendsFigure(rl.viz.genreRatingsByYear(data.ratings, data.movies), {
  title: `Genres of rated movies by year of rating — ${dataset}`,
  minTotal: 100,
});
rl.showFigure(figures['genres-by-rating-year']);
// %% markdown
// Second, what was made: each genre's share of the movies released in a year (from the catalogue, by release
// year parsed from the title). The catalogue reaches back to the silent era; years with fewer than 20 movies are
// left out.
// %% code
figures['genres-by-release-year'] = rl.viz.genreTrendsFigure(rl.viz.genreMoviesByReleaseYear(data.movies), {
  title: `Genres of catalogue movies by release year — ${dataset}`,
  yTitle: "% of the year's releases",
  minTotal: 20,
});
rl.showFigure(figures['genres-by-release-year']);
// %% markdown
// ## Ratings by year
// When the ratings were given, with the mean rating of each year on the right axis. ml-latest-small is a
// sample of users over the whole history of MovieLens, so activity comes in bursts rather than a steady
// stream — worth remembering before choosing a global time cut-off for a temporal split.
// %% code
const byYear = rl.features.ratingsByYear(data.ratings);
figures['ratings-by-year'] = rl.viz.ratingsByYearFigure(byYear, `Ratings by year — ${dataset}`);
rl.showFigure(figures['ratings-by-year']);
console.log(`ratings from ${byYear.years[0]} to ${byYear.years[byYear.years.length - 1]}`);
// %% markdown
// ## Keep it: log the exploration to MLflow
// The summary numbers become metrics of an MLflow run and every figure is saved to the run as a standalone
// HTML page (plotly.js embedded, opens offline from the MLflow UI's artifact view) and as PNG when headless
// Chromium is installed. Without a tracking server this cell only says so.
// %% code
const tracking = await rl.connectTracking({ warn: (m) => console.log(m) });
const saved = await rl.tracking.withRun(
  tracking,
  {
    experiment: experiment,
    runName: `explore ${dataset}`,
    source: 'notebook',
    sourceName: 'notebooks/01-explore.ipynb',
    dataset: dataset,
    params: { dataset: dataset },
  },
  async (run) => {
    await run.logMetrics({
      users: summary.users,
      items: summary.items,
      ratings: summary.ratings,
      density: summary.density,
      rating_mean: summary.ratingMean,
      top10pct_item_share: shares[1].share,
    });
    return { runId: run.runId, artifacts: await rl.viz.saveFigures(run, figures) };
  },
);
console.log(saved.runId ? `MLflow run ${saved.runId}: ${saved.artifacts.length} figure files` : 'not tracked');
