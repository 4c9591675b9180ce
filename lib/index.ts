/**
 * reelab's public API: what notebooks (`import * as rl from '../lib'`), the CLI and experiments use.
 */
export {
  ExperimentConfigError,
  type LoadedExperiment,
  loadExperimentConfig,
  parseExperimentConfig,
  parseExperimentYaml,
} from './config/load';
export type {
  EarlyStoppingConfig,
  ExperimentConfig,
  ExperimentConfigInput,
  ModelConfig,
  ReportConfig,
} from './config/schema';
export { experimentSchema } from './config/schema';
export * from './data/catalogue';
export * from './data/demographics';
export * from './data/genome';
export * from './data/id-map';
export * from './data/interactions';
export * from './data/links';
export * from './data/load';
export * from './data/movielens';
export * from './data/movies';
export * from './data/split';
export * from './data/synthetic';
export * from './data/synthetic-files';
export * from './data/tags';
export * from './eval/metrics';
export * from './eval/names';
export * from './eval/protocols';
export * from './eval/rating';
export * from './eval/significance';
export * from './features/duckdb';
export * from './features/eda';
export * from './features/matrix';
export * from './features/movies';
export * from './features/users';
export * from './features/weighting';
export {
  binarize,
  bm25Weight,
  confidenceMatrix,
  linearConfidence,
  logConfidence,
  normalizeRows,
  scaledValues,
  tfidfWeight,
} from './features/weighting';
export {
  AlsGenreModel,
  alsGenreSchema,
  type ItemGenres,
  itemGenresFromMovies,
  wantsItemGenres,
} from './models/als-genre';
export * from './models/baseline';
export { BprModel, bprSchema } from './models/bpr';
export { ContentModel, contentSchema, type SideInformation } from './models/content';
export { EaseModel, easeSchema } from './models/ease';
export * from './models/ensemble';
export { GbdtModel, gbdtSchema } from './models/gbdt';
export { GlobalMeanModel } from './models/global-mean';
export {
  attachTags,
  HybridNnModel,
  hybridNnSchema,
  type MovieContent,
  usesMovieContent,
} from './models/hybrid-nn';
export { IalsModel, ialsSchema } from './models/ials';
export { ItemKnnModel, itemKnnSchema } from './models/item-knn';
export { KnnModel, knnSchema } from './models/knn';
export { LmfModel, lmfSchema } from './models/lmf';
export { NeumfModel, neumfSchema } from './models/neumf';
export * from './models/persist';
export { PopularityModel, popularitySchema } from './models/popularity';
export { PureSvdModel, pureSvdSchema } from './models/pure-svd';
export { RandomModel, randomSchema } from './models/random';
export * from './models/recommender';
export * from './models/registry';
export { SvdModel, svdSchema } from './models/svd';
export { SvdppModel, svdppSchema } from './models/svdpp';
export * from './notebooks/execute';
export {
  latestSearchRun,
  loadReportData,
  type ReportData,
  type ReportTrial,
  reportDataFromSearch,
} from './report/data';
export {
  leaderboardRows,
  leaderboardTable,
  type RenderedReport,
  renderReport,
  writeReport,
} from './report/report';
export { buildReportModel, type LeaderboardRow, type ReportModel } from './report/stats';
export {
  type BestConfig,
  type ConfigSource,
  runSearch,
  type SearchOptions,
  type SearchResult,
  type TrialResult,
} from './search/runner';
export { expandGrid, gridSize, type NamedSpace, parseSpace, type Space, sampleRandom } from './search/spaces';
export * from './serving/artifact';
export * from './serving/batch';
export * from './serving/batch-duckdb';
export * from './serving/batch-postgres';
export * from './serving/cold-start';
export * from './serving/model-view';
export * from './serving/movies';
export * from './serving/server';
export * from './serving/service';
export * from './serving/similarity';
export * from './tracking/artifacts';
export * from './tracking/connect';
export * from './tracking/mlflow-client';
export * from './tracking/read';
export * from './tracking/run';
export * from './tracking/sync';
export * from './util/errors';
export * from './util/progress';
export * from './util/rng';
export * from './viz/aggregate';
export * from './viz/chromium';
export * from './viz/display';
export * from './viz/embeddings';
export * from './viz/figures';
export * from './viz/save';
export * from './viz/umap';
export * from './workflows/compare';
export * from './workflows/evaluate';
export {
  defaultReportDir,
  type ExperimentResult,
  rebuildReport,
  runExperiment,
} from './workflows/experiment';
export {
  type ConfigArgument,
  resolveConfig,
  type SearchWorkflowResult,
  searchWithReport,
} from './workflows/search';
export * from './workflows/train';
