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
