/** `rl.serving`: servable model directories, the recommendation service and HTTP server, batch scoring, cold start. */
export * from './artifact';
export * from './batch';
export * from './batch-duckdb';
export * from './batch-postgres';
export * from './cold-start';
export * from './model-view';
export * from './movies';
export * from './server';
export * from './service';
export * from './similarity';
