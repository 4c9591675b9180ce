/** `rl.search`: the hyperparameter search runner (grid/random, CV, early stopping, nested MLflow runs). */
export type { BestConfig, TrialResult } from './result';
export { runSearch, type SearchOptions, type SearchResult } from './runner';
export type { ConfigSource } from './source';
