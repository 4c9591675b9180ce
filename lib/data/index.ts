/**
 * `rl.data`: datasets (the MovieLens catalogue of releases, fetching, loading), the `Interactions` matrix and id
 * maps, splits, the movie catalogue and side information, and synthetic MovieLens-shaped data.
 */
export * from './catalogue';
export { resolveDataDir } from './data-dir';
export * from './demographics';
export {
  type FetchOptions,
  type FetchResult,
  fetchDataset,
  fetchImdb,
  type ImdbFetchOptions,
  type ImdbFetchResult,
} from './fetch';
export * from './genome';
export * from './id-map';
export * from './imdb';
export * from './imdb-catalogue';
export * from './interactions';
export * from './kcore';
export * from './links';
export * from './load';
export * from './movielens';
export * from './movies';
export { SideInformation, type SideInput } from './side-information';
export * from './split';
export * from './synthetic';
export * from './synthetic-files';
export * from './tags';
