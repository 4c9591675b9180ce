import { parseSetArguments } from '../models/registry';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { evaluate } from '../workflows/evaluate';
import { cliRunSettings, note, printResult } from './output';

export async function evaluateCommand(opts: {
  dataset: string;
  split: string;
  model: string;
  set: string[];
  metrics?: string;
  protocol: string;
  relevance: string;
  seed: string;
  threads?: string;
  dataDir?: string;
  experiment?: string;
  track: boolean;
  json?: boolean;
}): Promise<void> {
  const params = parseSetArguments(opts.model, opts.set);
  const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
  const result = await evaluate({
    dataset: opts.dataset,
    split: opts.split,
    model: opts.model,
    params,
    metrics: opts.metrics === undefined ? undefined : splitList(opts.metrics),
    protocols: splitList(opts.protocol),
    relevance: parseRelevance(opts.relevance),
    ...cliRunSettings(opts, tracking),
    onEpoch: (e) =>
      note(
        `epoch ${e.epoch}/${e.epochs} ${e.trainRmse !== undefined ? `train rmse ${e.trainRmse.toFixed(4)}` : ''}`,
      ),
  });
  const { epochs: _epochs, protocols: _perUser, ...contract } = result;
  printResult(
    contract,
    opts.json === true,
    (r: typeof contract) =>
      `${r.model} on ${r.dataset} ${r.split}: ${Object.entries(r.metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')} [${r.protocol}${r.relevance !== null ? `, relevant: rating ≥ ${r.relevance}` : ''}] ` +
      `(fit ${r.fitSeconds.toFixed(2)} s)${r.runId ? `, MLflow run ${r.runId}` : ''}`,
  );
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
}

function parseRelevance(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'all') return null;
  const v = Number(t);
  if (t === '' || !Number.isFinite(v))
    throw new ConfigError('--relevance', `expected a rating (e.g. 4) or "all", got "${text}"`);
  return v;
}
