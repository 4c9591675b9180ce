/** `rl.workflows`: the end-to-end steps — evaluate, train, compare recommenders, search with a report, experiments. */
export * from './compare';
export * from './evaluate';
export {
  defaultReportDir,
  type ExperimentResult,
  rebuildReport,
  runExperiment,
} from './experiment';
export {
  type ConfigArgument,
  resolveConfig,
  type SearchWorkflowResult,
  searchWithReport,
} from './search';
export * from './train';
