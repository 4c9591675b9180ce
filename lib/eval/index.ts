/**
 * `rl.eval`: metric functions, metric names, evaluation protocols (rating, full ranking, sampled), significance
 * tests, and `fitEvaluateRecord` (the one fit → evaluate → record step behind evaluate, comparisons and trials).
 */
export {
  type EarlyStoppingSpec,
  type EpochRecord,
  type FitEvaluateRequest,
  type FitEvaluateResult,
  fitEvaluateRecord,
  type HeldOutRole,
  metricsForModel,
  type RunRecorder,
  type SideInputs,
} from './fit-evaluate-record';
export * from './metrics';
export * from './names';
export * from './protocols';
export * from './rating';
export * from './significance';
