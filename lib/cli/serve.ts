import { modelNeedsTracking, resolveModelDir } from '../serving/artifact';
import { startServer } from '../serving/server';
import { RecommendationService } from '../serving/service';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { note } from './output';

export async function serveCommand(opts: {
  model: string;
  host: string;
  port: string;
  maxK: string;
  bodyLimit: string;
  log?: boolean;
}): Promise<void> {
  const port = integer(opts.port, '--port');
  const maxK = integer(opts.maxK, '--max-k');
  const bodyLimit = integer(opts.bodyLimit, '--body-limit');
  if (maxK < 1) throw new ConfigError('--max-k', 'must be at least 1');
  if (bodyLimit < 1024) throw new ConfigError('--body-limit', 'must be at least 1024 bytes');
  const tracking = modelNeedsTracking(opts.model) ? await connectTracking({ warn: note }) : null;
  const service = await RecommendationService.open(await resolveModelDir(opts.model, { tracking }), {
    tracking,
    maxK,
  });
  const server = await startServer(service, {
    host: opts.host,
    port,
    bodyLimit,
    logger: opts.log === true,
  });
  if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host))
    note(`warning: listening on ${opts.host}, reachable from other machines; the API has no authentication`);
  const s = service.summary;
  note(
    `serving ${s.model} (${s.dataset}, ${s.users} users, ${s.movies} movies) at ${server.url}  — docs ${server.url}/docs`,
  );
  const stop = (signal: string) => {
    note(`${signal}: stopping`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function integer(text: string, field: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v))
    throw new ConfigError(field, `expected a whole number, got "${text}"`);
  return v;
}
