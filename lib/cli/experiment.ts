import { relative } from 'node:path';
import { connectTracking } from '../tracking/connect';
import { runExperiment } from '../workflows/experiment';
import { note, printResult } from './output';
import {
  dryRun,
  humanSummary,
  positiveInt,
  registeredLine,
  type SearchCliOptions,
  searchSummary,
} from './search';

export async function experimentCommand(
  configPath: string,
  opts: SearchCliOptions & { out?: string },
): Promise<void> {
  if (dryRun(configPath, opts)) return;
  const tracking = await connectTracking({ noTrack: !opts.track, warn: note });
  const out = await runExperiment(configPath, {
    tracking,
    dataDir: opts.dataDir,
    parallel: positiveInt('--threads', opts.threads),
    inline: opts.inline === true,
    fresh: opts.fresh === true,
    runSource: 'experiment',
    sourceName: `reelab ${process.argv.slice(2).join(' ')}`,
    log: note,
    reportDir: opts.out,
  });
  const summary = { ...searchSummary(out.search), registered: out.registered, report: out.files };
  printResult(
    summary,
    opts.json === true,
    (s: typeof summary) =>
      `${humanSummary(s)}\n${s.registered ? `${registeredLine(s.registered)}\n` : ''}` +
      `report: ${relative(process.cwd(), s.report.markdown)}, ${relative(process.cwd(), s.report.html)}`,
  );
  if (out.search.counts.failed > 0) {
    note(`${out.search.counts.failed} trial(s) failed; the report lists them`);
    process.exitCode = 2;
  }
}
