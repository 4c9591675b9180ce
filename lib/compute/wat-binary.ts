import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { projectRoot } from '../util/project';

interface Wabt {
  parseWat(
    filename: string,
    source: string,
    features: Record<string, boolean>,
  ): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
}

const validate = (globalThis as unknown as { WebAssembly?: { validate(bytes: Uint8Array): boolean } })
  .WebAssembly?.validate;

/**
 * The binary of a WebAssembly text module: wabt's parseWat + toBinary. That translation is deterministic, so the
 * binary is kept in .cache/wasm/ (git-ignored) under the sha256 of wabt's version, the features and the text,
 * and later processes and threads read it back instead of loading wabt (~15 ms) and parsing (~5–30 ms per
 * kernel) on every start. A cached file that does not validate is rebuilt; REELAB_WASM_CACHE=off bypasses the
 * cache; a cache that cannot be written is skipped silently. Throws what wabt throws.
 */
export async function watToBinary(
  filename: string,
  text: string,
  features: Record<string, boolean>,
): Promise<Uint8Array> {
  const useCache = process.env.REELAB_WASM_CACHE !== 'off';
  let file: string | null = null;
  if (useCache) {
    try {
      const wabtDir = dirname(require.resolve('wabt'));
      const version = (JSON.parse(readFileSync(join(wabtDir, 'package.json'), 'utf8')) as { version: string })
        .version;
      const key = createHash('sha256')
        .update(JSON.stringify([version, filename, features, text]))
        .digest('hex');
      file = join(projectRoot(), '.cache', 'wasm', `${key}.wasm`);
      const cached = readFileSync(file);
      if (validate?.(cached)) return cached;
    } catch {
      // not cached yet (or unreadable): compile below
    }
  }
  const wabt = await (require('wabt') as () => Promise<Wabt>)();
  const parsed = wabt.parseWat(filename, text, features);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  if (file) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}-${threadId}.tmp`;
      writeFileSync(tmp, buffer);
      renameSync(tmp, file);
    } catch {
      // read-only checkout: no cache
    }
  }
  return buffer;
}
