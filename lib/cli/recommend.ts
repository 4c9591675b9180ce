import { readFileSync } from 'node:fs';
import { modelNeedsTracking, resolveModelDir } from '../serving/artifact';
import { type RatingInput, RecommendationService } from '../serving/service';
import { connectTracking } from '../tracking/connect';
import { ConfigError, DataError } from '../util/errors';
import { note, printResult } from './output';

export async function recommendCommand(opts: {
  model: string;
  user?: string;
  ratings?: string;
  k: string;
  explain?: boolean;
  json?: boolean;
}): Promise<void> {
  if ((opts.user === undefined) === (opts.ratings === undefined))
    throw new ConfigError('--user/--ratings', 'give exactly one of --user <id> or --ratings <file.json>');
  const k = parseInteger(opts.k, '-k');
  const tracking = modelNeedsTracking(opts.model) ? await connectTracking({ warn: note }) : null;
  const service = await RecommendationService.open(await resolveModelDir(opts.model, { tracking }), {
    tracking,
    maxK: 1000,
  });
  if (opts.user !== undefined) {
    const result = service.recommendForUser(parseInteger(opts.user, '--user'), k, opts.explain === true);
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
