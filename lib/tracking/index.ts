/**
 * `rl.tracking`: the MLflow client, runs (`withRun`, `startRun`), dataset inputs, logged models, the Model
 * Registry, reading runs back, artifacts, outbox sync.
 */
export * from './artifacts';
export * from './connect';
export * from './dataset-input';
export * from './mlflow-client';
export * from './mlmodel';
export * from './read';
export * from './registry';
export * from './run';
export * from './sync';
