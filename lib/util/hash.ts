import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from './project';

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

type HashCache = Record<string, { size: number; mtimeMs: number; sha256: string }>;

function cacheFile(): string {
  return join(projectRoot(), '.cache', 'sha256.json');
}

/** sha256 of a file, remembered in .cache/ by path, size and mtime so big files are hashed once. */
export async function sha256FileCached(path: string): Promise<string> {
  const abs = resolve(path);
  const st = statSync(abs);
  let cache: HashCache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile(), 'utf8')) as HashCache;
  } catch {
    cache = {};
  }
  const hit = cache[abs];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = await sha256File(abs);
  cache[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  try {
    mkdirSync(join(projectRoot(), '.cache'), { recursive: true });
    writeFileSync(cacheFile(), JSON.stringify(cache, null, 1));
  } catch {
    // A read-only checkout only loses the cache.
  }
  return sha256;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * JSON with object keys sorted at every level and `undefined` members left out: equal values give equal
 * text whatever order their keys were built in. Non-finite numbers are rejected (JSON has no spelling for them).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value, '$'));
}

function normalise(value: unknown, where: string): Json {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`${where}: ${value} cannot be hashed`);
      return Object.is(value, -0) ? 0 : value;
    case 'object': {
      if (Array.isArray(value)) return value.map((v, i) => normalise(v, `${where}[${i}]`));
      const out: { [key: string]: Json } = {};
      for (const key of Object.keys(value as object).sort()) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined) out[key] = normalise(v, `${where}.${key}`);
      }
      return out;
    }
    default:
      throw new RangeError(`${where}: a ${typeof value} cannot be hashed`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of `value`. */
export function hashValue(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** A non-negative 31-bit integer from a hex digest (its first 8 hex digits): model seeds derived from hashes. */
export function seedFromHash(hex: string): number {
  return Number.parseInt(hex.slice(0, 8), 16) & 0x7fffffff;
}
