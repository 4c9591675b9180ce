/**
 * reelab's public API, one namespace per lib/ folder (`lib/<folder>/index.ts` says exactly what each exports), so a
 * notebook's `import * as rl from './lib/index'` autocompletes to a dozen folders instead of hundreds of names:
 *
 *     rl.data.makeSplit(...)   rl.models.createModel('ials')   rl.eval.ndcgAtK(...)   rl.viz.learningCurveFigure(...)
 *
 * Shortcuts: the quickstart loop (load → describe → model → evaluate/train/compare → track → show) is also exported
 * at the top level, next to its namespace below, because nearly every notebook cell calls one of these and
 * `rl.viz.showTable(...)` in every cell is noise: describeDataset, loadDataset, loadRatings, createModel,
 * connectTracking, showFigure, showRecord, showTable, compareRecommenders, evaluate, train. Each is the same function
 * as in its namespace. Keep that list short (at most 15); everything else lives only in its namespace.
 *
 * `eval` cannot be a local binding in strict-mode JavaScript and esbuild (tsx) compiles `export * as eval` into one
 * (`var eval = ...`, a SyntaxError), so that namespace is imported under another name and exported as `eval`.
 */
import * as evaluation from './eval/index';

export * as compute from './compute/index';
export * as config from './config/index';
export * as data from './data/index';
export { describeDataset, loadDataset, loadRatings } from './data/index';
export * as features from './features/index';
export * as models from './models/index';
export { createModel } from './models/index';
export * as notebooks from './notebooks/index';
export * as report from './report/index';
export * as search from './search/index';
export * as serving from './serving/index';
export * as tracking from './tracking/index';
export { connectTracking } from './tracking/index';
export * as util from './util/index';
export * as viz from './viz/index';
export { showFigure, showRecord, showTable } from './viz/index';
export * as workflows from './workflows/index';
export { compareRecommenders, evaluate, train } from './workflows/index';
export { evaluation as eval };
