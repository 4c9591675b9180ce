import type { Command } from 'commander';
import { startServer } from '../serving/server';
import { RecommendationService } from '../serving/service';
import { connectTracking } from '../tracking/connect';
import { ConfigError } from '../util/errors';
import { action, note } from './output';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('HTTP API (+ OpenAPI page at /docs and a web page at /) over a saved model')
    .requiredOption('--model <dir|run-id>', 'model folder from `reelab train`, or an MLflow run id')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8000')
    .option('--max-k <n>', 'largest list length a request may ask for', '100')
    .option('--body-limit <bytes>', 'largest request body', String(64 * 1024))
    .option('--log', 'log every request (JSON lines on stdout)')
    .action(
      action(
        async (opts: {
          model: string;
          host: string;
          port: string;
          maxK: string;
          bodyLimit: string;
          log?: boolean;
        }) => {
          const port = integer(opts.port, '--port');
          const maxK = integer(opts.maxK, '--max-k');
          const bodyLimit = integer(opts.bodyLimit, '--body-limit');
          if (maxK < 1) throw new ConfigError('--max-k', 'must be at least 1');
          if (bodyLimit < 1024) throw new ConfigError('--body-limit', 'must be at least 1024 bytes');
          const tracking = /^(runs:\/)?[0-9a-f]{32}/i.test(opts.model)
            ? await connectTracking({ warn: note })
            : null;
          const service = await RecommendationService.open(opts.model, { tracking, maxK });
          const server = await startServer(service, {
            host: opts.host,
            port,
            bodyLimit,
            logger: opts.log === true,
          });
          if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host))
            note(
              `warning: listening on ${opts.host}, reachable from other machines; the API has no authentication`,
            );
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
        },
      ),
    );
}

function integer(text: string, field: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v))
    throw new ConfigError(field, `expected a whole number, got "${text}"`);
  return v;
}
