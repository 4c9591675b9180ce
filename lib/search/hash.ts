import { createHash } from 'node:crypto';

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
