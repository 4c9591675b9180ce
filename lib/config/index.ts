/** `rl.config`: experiment configs (the zod schema, YAML loading) and hyperparameter search spaces. */
export {
  ExperimentConfigError,
  type LoadedExperiment,
  loadExperimentConfig,
  parseExperimentConfig,
  parseExperimentYaml,
} from './load';
export {
  type EarlyStoppingConfig,
  type ExperimentConfig,
  type ExperimentConfigInput,
  experimentSchema,
  type ModelConfig,
  type ReportConfig,
} from './schema';
export { expandGrid, gridSize, type NamedSpace, parseSpace, type Space, sampleRandom } from './spaces';
