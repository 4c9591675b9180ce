import { parseSetArguments } from '../models/registry';
import { connectTracking } from '../tracking/connect';
import { train } from '../workflows/train';
import { cliRunSettings, note, printResult } from './output';

export async function trainCommand(opts: {
  dataset: string;
  split?: string;
  model: string;
  set: string[];
  out: string;
  overwrite?: boolean;
  metrics?: string;
  seed: string;
  threads?: string;
  dataDir?: string;
  experiment?: string;
  track: boolean;
  json?: boolean;
  /** `--register <name>`: register the logged model as a new version of this registered model. */
  register?: string;
  /** `--alias <alias>`: point this alias (e.g. champion) at the new version. */
  alias?: string;
}): Promise<void> {
  const params = parseSetArguments(opts.model, opts.set);
  const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
  const result = await train({
    dataset: opts.dataset,
    split: opts.split ?? null,
    model: opts.model,
    params,
    out: opts.out,
    overwrite: opts.overwrite === true,
    metrics: opts.metrics
      ?.split(',')
      .map((m) => m.trim())
      .filter(Boolean),
    ...cliRunSettings(opts, tracking),
    onEpoch: (e) => note(`epoch ${e.epoch}/${e.epochs} (${e.seconds.toFixed(2)} s)`),
    register: opts.register,
    alias: opts.alias,
  });
  printResult(
    result,
    opts.json === true,
    (r: typeof result) =>
      `${r.model} trained on ${r.dataset}${r.split ? ` ${r.split}` : ''} (${r.trainRatings} ratings, ` +
      `${r.fitSeconds.toFixed(2)} s) → ${r.out}` +
      (Object.keys(r.metrics).length
        ? `; ${Object.entries(r.metrics)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(', ')}`
        : '') +
      (r.runId ? `; MLflow run ${r.runId}` : '') +
      (r.registered
        ? `; registered ${r.registered.uri}${r.registered.alias ? ` (@${r.registered.alias})` : ''}`
        : ''),
  );
}
