/** `rl.features`: EDA counts, movie and user feature tables (DuckDB), feature matrices, confidence weighting. */
export * from './duckdb';
export * from './eda';
export * from './matrix';
export * from './movies';
export * from './users';
export * from './weighting';
