import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realDataDir } from '../helpers/data';

/** The real ratings of one ml-latest-small user, read straight from ratings.csv (movieId → rating). */
export function realUserRatings(userId: number): Map<number, number> {
  const text = readFileSync(join(realDataDir(), 'ml-latest-small', 'ratings.csv'), 'utf8');
  const out = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const [u, m, r] = line.split(',');
    if (Number(u) === userId) out.set(Number(m), Number(r));
  }
  return out;
}

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

/** fetch + JSON body (the API answers JSON everywhere except the page and /docs). */
export async function call(url: string, init?: RequestInit): Promise<JsonResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}

export function post(url: string, body: unknown, raw = false): Promise<JsonResponse> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}
