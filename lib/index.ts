/**
 * reelab's public API: what notebooks (`import * as rl from '../lib'`), the CLI and experiments use.
 */
export * from './data/id-map';
export * from './data/interactions';
export * from './data/load';
export * from './data/movielens';
export * from './data/movies';
export * from './data/split';
export * from './data/synthetic';
export * from './eval/metrics';
export * from './eval/rating';
export * from './models/baseline';
export * from './models/persist';
export * from './models/recommender';
export * from './models/registry';
export * from './notebooks/execute';
export * from './tracking/connect';
export * from './tracking/mlflow-client';
export * from './tracking/run';
export * from './util/errors';
export * from './util/rng';
export * from './viz/display';
export * from './viz/figures';
export * from './workflows/evaluate';
