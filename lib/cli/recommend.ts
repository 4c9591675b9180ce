import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type RatingInput, RecommendationService } from '../serving/service';
import { connectTracking } from '../tracking/connect';
import { ConfigError, DataError } from '../util/errors';
import { action, note, printResult } from './output';

export function registerRecommendCommand(program: Command): void {
  program
    .command('recommend')
    .description('top-k movies for a known user, or for a new user from a ratings file (cold start)')
    .requiredOption('--model <dir|run-id>', 'model folder from `reelab train`, or an MLflow run id')
    .option('--user <id>', 'MovieLens user id')
    .option('--ratings <file.json>', 'new user: JSON array of {"movieId", "rating"}')
    .option('-k, --k <n>', 'list length', '10')
    .option('--explain', 'add the rated movies most similar to each recommendation')
    .option('--json', 'print one JSON object')
    .action(
      action(
        async (opts: {
          model: string;
          user?: string;
          ratings?: string;
          k: string;
          explain?: boolean;
          json?: boolean;
        }) => {
          if ((opts.user === undefined) === (opts.ratings === undefined))
            throw new ConfigError(
              '--user/--ratings',
              'give exactly one of --user <id> or --ratings <file.json>',
            );
          const k = parseInteger(opts.k, '-k');
          const tracking = /^(runs:\/)?[0-9a-f]{32}/i.test(opts.model)
            ? await connectTracking({ warn: note })
            : null;
          const service = await RecommendationService.open(opts.model, { tracking, maxK: 1000 });
          if (opts.user !== undefined) {
            const result = service.recommendForUser(
              parseInteger(opts.user, '--user'),
              k,
              opts.explain === true,
            );
            printResult(result, opts.json === true, (r: typeof result) =>
              [`top ${r.items.length} for user ${r.user} (${r.model}):`, ...lines(r.items)].join('\n'),
            );
          } else {
            const result = service.recommendForRatings(readRatings(opts.ratings!), k, opts.explain === true);
            if (result.unknownMovies.length > 0)
              note(`left out movies the model does not know: ${result.unknownMovies.join(', ')}`);
            printResult(result, opts.json === true, (r: typeof result) =>
              [
                `top ${r.items.length} for a new user from ${r.used} ratings (${r.model}, ${r.method}):`,
                ...lines(r.items),
              ].join('\n'),
            );
          }
        },
      ),
    );
}

function lines(items: Array<{ movieId: number; title: string; score: number }>): string[] {
  return items.map(
    (it, r) => `${String(r + 1).padStart(3)}. ${it.title} [${it.movieId}] (score=${it.score.toFixed(3)})`,
  );
}

function parseInteger(text: string, field: string): number {
  const v = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(v))
    throw new ConfigError(field, `expected an integer, got "${text}"`);
  return v;
}

/** Reads [{movieId, rating}, …] from a JSON file, with errors that name the file and the entry. */
export function readRatings(file: string): RatingInput[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, undefined, `not readable JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data))
    throw new DataError(file, undefined, 'expected a JSON array of {"movieId", "rating"}');
  return data.map((entry: unknown, p) => {
    const e = entry as Partial<RatingInput> | null;
    if (!e || typeof e !== 'object' || typeof e.movieId !== 'number' || typeof e.rating !== 'number')
      throw new DataError(file, undefined, `entry ${p}: expected {"movieId": <number>, "rating": <number>}`);
    return { movieId: e.movieId, rating: e.rating };
  });
}
