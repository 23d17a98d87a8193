/**
 * Sending shared objects (locks, queues...) inside other values: `pack` replaces each with its
 * description before a structured clone, `unpack` revives them on the other side. Both walk
 * arrays, plain objects, `Map`s and `Set`s, to any depth, cycles included; the caller's values
 * are copied, never changed.
 */
import { codedError, describeValue } from '../coded-errors.js';
import { DESCRIBE, isSharedDescription, revive, type SharedObject } from './shared-memory.js';

function isSharedObject(value: object): value is SharedObject {
  return typeof (value as Partial<SharedObject>)[DESCRIBE] === 'function';
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `value` with every shared object in it replaced by its description. Throws a coded
 * `TypeError` for a shared object inside a container structured clone would not keep (a class
 * instance, an error): it would arrive as a plain object that no longer works.
 */
export function pack(value: unknown): unknown {
  let found = false;
  const packed = walk(
    value,
    new Map(),
    (object) => {
      if (!isSharedObject(object)) return undefined;
      found = true;
      return object[DESCRIBE]();
    },
    true,
  );
  // Nothing to revive: the thread gets the value itself, and need not look.
  return found ? packed : value;
}

/** `value` with every shared object's description in it revived as an instance. */
export function unpack(value: unknown): unknown {
  return walk(value, new Map(), (object) => (isSharedDescription(object) ? revive(object) : undefined), false);
}
/**
 * Where a thread's bootstrap finds {@link unpack} for its args: on a registered global symbol,
 * set by the first copy of the package whose shared objects load in the thread, so that args are
 * revived with the very classes the target imports (and the bootstrap carries none of this code).
 */
export const UNPACK_KEY = Symbol.for('graceful-threads.unpack-shared.v1');
(globalThis as Record<symbol, unknown>)[UNPACK_KEY] ??= unpack;

/**
 * Copies the arrays, plain objects, `Map`s and `Set`s of `value`, replacing what `replace` turns
 * into something else (anything but undefined). Each copy is recorded before its contents are
 * walked, so cycles and shared references come out as they went in. Everything else is kept as it
 * is; with `strict`, a shared object found inside it is an error.
 */
function walk(
  value: unknown,
  seen: Map<object, unknown>,
  replace: (object: object) => unknown,
  strict: boolean,
): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  const replaced = replace(value);
  if (replaced !== undefined) {
    seen.set(value, replaced);
    return replaced;
  }
  const next = (item: unknown): unknown => walk(item, seen, replace, strict);
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    seen.set(value, copy);
    for (let i = 0; i < value.length; i++) if (i in value) copy[i] = next(value[i]);
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map();
    seen.set(value, copy);
    for (const [k, v] of value) copy.set(next(k), next(v));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    seen.set(value, copy);
    for (const item of value) copy.add(next(item));
    return copy;
  }
  if (!isPlainObject(value)) {
    if (strict && holdsSharedObject(value, new Set())) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `A lock, queue or other shared object inside ${describeValue(value)} cannot reach the thread working: structured clone keeps only the data of such an object. Put it in an array, a plain object, a Map or a Set.`,
      );
    }
    seen.set(value, value);
    return value;
  }
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  seen.set(value, copy);
  for (const key of Object.keys(value)) {
    // Defined, not assigned: a "__proto__" key (JSON.parse makes one) stays a key.
    Object.defineProperty(copy, key, {
      value: next((value as Record<string, unknown>)[key]),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return copy;
}

/** True when a shared object sits anywhere in the own enumerable properties of `value`. */
function holdsSharedObject(value: object, seen: Set<object>): boolean {
  if (seen.has(value)) return false;
  seen.add(value);
  if (isSharedObject(value)) return true;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return false;
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : [];
  if (value instanceof Error && value.cause !== undefined) children.push(value.cause);
  for (const key of Object.keys(value)) children.push((value as Record<string, unknown>)[key]);
  return children.some((child) => typeof child === 'object' && child !== null && holdsSharedObject(child, seen));
}
