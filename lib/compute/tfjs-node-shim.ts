/**
 * Node 23 removed the long-deprecated `util.is*` type checks (`util.isNullOrUndefined`, `util.isString`, …).
 * @tensorflow/tfjs-node 4.22 still calls some of them (`util.isNullOrUndefined` in its kernel backend), so under
 * Node ≥ 23 it fails with "util.isNullOrUndefined is not a function". `restoreLegacyUtil()` puts back exactly
 * the ones that are missing, with the semantics they had in Node ≤ 22; it is called before tfjs-node is required.
 * Functions that still exist (e.g. `util.isArray` in Node 24) are left untouched.
 */
import { types } from 'node:util';

type Predicate = (arg: unknown) => boolean;

/** The removed `util` predicates, implemented as Node 22's lib/util.js did. */
export const LEGACY_UTIL_PREDICATES: Readonly<Record<string, Predicate>> = {
  isArray: (arg) => Array.isArray(arg),
  isBoolean: (arg) => typeof arg === 'boolean',
  isBuffer: (arg) => arg instanceof Buffer,
  isDate: (arg) => types.isDate(arg),
  isError: (arg) => Object.prototype.toString.call(arg) === '[object Error]' || arg instanceof Error,
  isFunction: (arg) => typeof arg === 'function',
  isNull: (arg) => arg === null,
  isNullOrUndefined: (arg) => arg === null || arg === undefined,
  isNumber: (arg) => typeof arg === 'number',
  isObject: (arg) => arg !== null && typeof arg === 'object',
  isPrimitive: (arg) => arg === null || (typeof arg !== 'object' && typeof arg !== 'function'),
  isRegExp: (arg) => types.isRegExp(arg),
  isString: (arg) => typeof arg === 'string',
  isSymbol: (arg) => typeof arg === 'symbol',
  isUndefined: (arg) => arg === undefined,
};

/**
 * Adds each of LEGACY_UTIL_PREDICATES that `target` (default: the `node:util` module object that CommonJS
 * `require('util')` returns, which is what tfjs-node uses) lacks; returns the names it added (none on Node ≤ 22, or
 * on a second call). An ES module's named imports of node:util cannot gain names; its default export does.
 */
export function restoreLegacyUtil(target?: Record<string, unknown>): string[] {
  const into: Record<string, unknown> = target ?? require('node:util');
  const added: string[] = [];
  for (const [name, fn] of Object.entries(LEGACY_UTIL_PREDICATES)) {
    if (typeof into[name] === 'function') continue;
    into[name] = fn;
    added.push(name);
  }
  return added;
}
