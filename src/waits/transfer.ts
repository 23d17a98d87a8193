/**
 * Sending shared objects (locks, queues...) inside other values: `pack` replaces each with its
 * description before a structured clone, `unpack` revives them on the other side. Both walk
 * arrays, plain objects, `Map`s and `Set`s, to any depth, cycles included; containers on the
 * way to a shared object are copied, never changed, and everything else is left as it is.
 */
import { DESCRIBE, isSharedDescription, revive, type SharedObject } from './shared-memory.js';

function isSharedObject(value: object): value is SharedObject {
  return typeof (value as Partial<SharedObject>)[DESCRIBE] === 'function';
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `value` with every shared object in it replaced by its description. */
export function pack(value: unknown): unknown {
  return walk(value, new Map(), (object) => (isSharedObject(object) ? object[DESCRIBE]() : undefined));
}

/** `value` with every shared object's description in it revived as an instance. */
export function unpack(value: unknown): unknown {
  return walk(value, new Map(), (object) => (isSharedDescription(object) ? revive(object) : undefined));
}

/**
 * Where a thread's bootstrap finds {@link unpack} for its args: on a registered global symbol,
 * set when the package's main module loads, so that args are revived with the very classes the
 * target imports (and the bootstrap carries none of this code).
 */
export const UNPACK_KEY = Symbol.for('graceful-threads.unpack-shared.v1');
(globalThis as Record<symbol, unknown>)[UNPACK_KEY] ??= unpack;

/**
 * Copies the containers of `value` in which `replace` replaces something (returns a value other
 * than undefined), and returns the rest as it is.
 */
function walk(value: unknown, seen: Map<object, unknown>, replace: (object: object) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  const replaced = replace(value);
  if (replaced !== undefined) {
    seen.set(value, replaced);
    return replaced;
  }
  // Marked before its contents are walked, so a cycle back to it ends the walk. (A cycle through a
  // container that gets copied keeps pointing to the original: shared objects in cycles are not
  // supported.)
  seen.set(value, value);
  if (Array.isArray(value)) {
    return copyIfChanged(
      value,
      seen,
      value.map((item) => walk(item, seen, replace)),
      (items) => items,
    );
  }
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [walk(k, seen, replace), walk(v, seen, replace)] as const);
    const original = [...value];
    const changed = entries.some(([k, v], i) => k !== original[i]![0] || v !== original[i]![1]);
    if (!changed) return value;
    const copy = new Map(entries);
    seen.set(value, copy);
    return copy;
  }
  if (value instanceof Set) {
    const items = [...value].map((item) => walk(item, seen, replace));
    const original = [...value];
    if (!items.some((item, i) => item !== original[i])) return value;
    const copy = new Set(items);
    seen.set(value, copy);
    return copy;
  }
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  const values = keys.map((key) => walk(record[key], seen, replace));
  if (!values.some((v, i) => v !== record[keys[i]!])) return value;
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  keys.forEach((key, i) => {
    copy[key] = values[i];
  });
  seen.set(value, copy);
  return copy;
}

function copyIfChanged<T>(
  original: unknown[],
  seen: Map<object, unknown>,
  items: unknown[],
  make: (items: unknown[]) => T,
): unknown {
  if (!items.some((item, i) => item !== original[i])) return original;
  const copy = make(items);
  seen.set(original, copy);
  return copy;
}
