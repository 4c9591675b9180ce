import { planSearch } from '../search/plan';
import type { SearchResult } from '../search/runner';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { describeParams } from '../util/params-text';
import { type RegisteredBest, searchAndRegister } from '../workflows/experiment';
import { resolveConfig } from '../workflows/search';
import { note, printResult } from './output';

export interface SearchCliOptions {
  threads?: string;
  dataDir?: string;
  track: boolean;
  json?: boolean;
  inline?: boolean;
  dryRun?: boolean;
  fresh?: boolean;
}

export function positiveInt(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= 1))
    throw new ConfigError(field, `expected a positive integer, got "${text}"`);
  return n;
}

/** Summary printed by search / experiment. */
export function searchSummary(result: SearchResult) {
  return {
    name: result.config.name,
    experiment: result.experiment,
    parentRunId: result.parentRunId,
    trials: result.counts,
    select: result.selectKey,
    best: result.best.map((b) => ({
      label: b.label,
      model: b.model,
      config: b.config,
      params: { ...result.config.models[b.entry]!.params, ...b.searched },
      score: b.score,
    })),
    seconds: result.seconds,
  };
}

/** One line naming the version `register:` created. */
export function registeredLine(r: RegisteredBest): string {
  return (
    `registered ${r.uri}${r.aliasUri ? ` (${r.aliasUri})` : ''}: ${r.label} trained on ${r.split} in MLflow run ${r.runId}` +
    `; selection ${r.selection}`
  );
}

export function humanSummary(s: ReturnType<typeof searchSummary>): string {
  const lines = [
    `${s.name}: ${s.trials.total} trials (${s.trials.ran} ran, ${s.trials.reused} reused, ${s.trials.failed} failed) in ${s.seconds.toFixed(1)} s` +
      (s.parentRunId ? `; MLflow run ${s.parentRunId} in ${s.experiment}` : ''),
  ];
  for (const b of s.best)
    lines.push(
      `  ${b.label}: ${s.select} ${b.score === null ? 'failed' : b.score.toFixed(4)} with ${describeParams(b.params)}`,
    );
  return lines.join('\n');
}

/** Validates and, with --dry-run, prints the plan; returns true when the caller should stop there. */
export function dryRun(configPath: string, opts: SearchCliOptions): boolean {
  const { config } = resolveConfig(configPath);
  if (!opts.dryRun) return false;
  const { sets, trials } = planSearch({ config, datasetSha256: null });
  const plan = {
    name: config.name,
    valid: true,
    splits: config.splits,
    validation: config.validation,
    searchTrials: trials.length,
    finalTrials: config.validation ? config.splits.length * config.models.length : 0,
    models: config.models.map((m, e) => ({
      label: m.label,
      model: m.model,
      configurations: sets[e]!.length,
    })),
  };
  printResult(plan, opts.json === true, (p: typeof plan) =>
    [
      `${p.name}: valid; ${p.searchTrials} search trial(s)${p.finalTrials ? ` + ${p.finalTrials} final` : ''} on ${p.splits.join(', ')}`,
      ...p.models.map((m) => `  ${m.label} (${m.model}): ${m.configurations} configuration(s)`),
    ].join('\n'),
  );
  return true;
}

export async function searchCommand(configPath: string, opts: SearchCliOptions): Promise<void> {
  if (dryRun(configPath, opts)) return;
  const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
  const out = await searchAndRegister(configPath, {
    tracking,
    dataDir: opts.dataDir,
    parallel: positiveInt('--threads', opts.threads),
    inline: opts.inline === true,
    fresh: opts.fresh === true,
    runSource: 'cli',
    sourceName: `reelab ${process.argv.slice(2).join(' ')}`,
    log: note,
  });
  const summary = { ...searchSummary(out.result), registered: out.registered };
  printResult(summary, opts.json === true, (s: typeof summary) =>
    s.registered ? `${humanSummary(s)}\n${registeredLine(s.registered)}` : humanSummary(s),
  );
  if (out.result.counts.failed > 0) {
    note(`${out.result.counts.failed} trial(s) failed; see the MLflow runs (reelab.error tag) or the report`);
    process.exitCode = 2;
  }
}
