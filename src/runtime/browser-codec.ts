/**
 * The browser's side of ./node-codec.ts: interrupt reasons and thread failures to bytes and
 * back. A browser has no structured-clone serializer to call (Node's `v8.serialize`), so the
 * value, once the browser's `structuredClone` has accepted it, is written as tagged JSON: plain
 * data, `undefined`, `NaN` and infinities, bigints, `Date`, `RegExp`, `Map`, `Set`, `ArrayBuffer`s
 * and their views, primitive wrappers, errors and `DOMException`s (name, message, stack, cause),
 * with shared references and cycles. What structured clone refuses is refused too (functions,
 * symbols, class instances come as their own fields, as a clone makes them).
 */

import { BytesCloneError, type BytesRefusal } from '../bytes-clone-error.js';

export { BytesCloneError, type BytesRefusal };

/** Runs `make`: a browser offers no cheap way to skip the stack trace. */
export function withoutStackTrace<T>(make: () => T): T {
  return make();
}

type Tagged = null | boolean | string | number | Tagged[] | { readonly [key: string]: Tagged };

const ERROR_CLASSES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function cloneError(what: string): DOMException {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}

function encodeTree(value: unknown, seen: Map<object, number>): Tagged {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { $: 'n', v: String(value) };
    case 'undefined':
      return { $: 'u' };
    case 'bigint':
      return { $: 'b', v: value.toString() };
    case 'function':
    case 'symbol':
      throw cloneError(String(value));
  }
  if (value === null) return null;
  const object = value as object;
  const ref = seen.get(object);
  if (ref !== undefined) return { $: 'r', v: ref };
  const id = seen.size;
  seen.set(object, id);
  if (object instanceof SharedArrayBuffer) throw new BytesCloneError('shared-memory', 'SharedArrayBuffer');
  if (ArrayBuffer.isView(object) && object.buffer instanceof SharedArrayBuffer) {
    throw new BytesCloneError('shared-memory', object.constructor.name);
  }
  if (object instanceof ArrayBuffer) return { $: 'B', i: id, v: [...new Uint8Array(object)] };
  if (ArrayBuffer.isView(object)) {
    const view = object as ArrayBufferView & { readonly length?: number };
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return { $: 't', i: id, c: object.constructor.name, v: [...bytes] };
  }
  if (object instanceof Boolean || object instanceof Number || object instanceof String) {
    return { $: 'w', i: id, v: encodeTree(object.valueOf(), seen) };
  }
  if (Array.isArray(object)) return { $: 'a', i: id, v: object.map((item) => encodeTree(item, seen)) };
  if (object instanceof Date) return { $: 'd', i: id, v: object.getTime() };
  if (object instanceof RegExp) return { $: 'x', i: id, v: object.source, f: object.flags };
  if (object instanceof Map) {
    return { $: 'm', i: id, v: [...object].map(([k, v]) => [encodeTree(k, seen), encodeTree(v, seen)]) };
  }
  if (object instanceof Set) return { $: 's', i: id, v: [...object].map((item) => encodeTree(item, seen)) };
  if (object instanceof DOMException || object instanceof Error) {
    const error = object as Error;
    const fields: Record<string, Tagged> = {
      $: object instanceof DOMException ? 'D' : 'e',
      i: id,
      n: String(error.name),
      m: String(error.message),
      s: typeof error.stack === 'string' ? error.stack : null,
    };
    if ('cause' in error) fields.c = encodeTree(error.cause, seen);
    return fields;
  }
  const fields: Record<string, Tagged> = {};
  for (const key of Object.keys(object)) fields[key] = encodeTree((object as Record<string, unknown>)[key], seen);
  return { $: 'o', i: id, v: fields };
}

function decodeTree(tree: Tagged, refs: unknown[]): unknown {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return tree;
  const node = tree as Record<string, Tagged>;
  const keep = <T>(value: T): T => {
    refs[node.i as number] = value;
    return value;
  };
  switch (node.$) {
    case 'n':
      return Number(node.v);
    case 'u':
      return undefined;
    case 'b':
      return BigInt(node.v as string);
    case 'r':
      return refs[node.v as number];
    case 'a': {
      const array = keep([] as unknown[]);
      for (const item of node.v as Tagged[]) array.push(decodeTree(item, refs));
      return array;
    }
    case 'B':
      return keep(new Uint8Array(node.v as number[]).buffer);
    case 't': {
      const buffer = new Uint8Array(node.v as number[]).buffer;
      const View = (globalThis as unknown as Record<string, new (buffer: ArrayBuffer) => unknown>)[node.c as string];
      return keep(View === undefined ? new Uint8Array(buffer) : new View(buffer));
    }
    case 'w':
      return keep(Object(decodeTree(node.v as Tagged, refs)));
    case 'd':
      return keep(new Date(node.v as number));
    case 'x':
      return keep(new RegExp(node.v as string, node.f as string));
    case 'm': {
      const map = keep(new Map());
      for (const [k, v] of node.v as [Tagged, Tagged][]) map.set(decodeTree(k, refs), decodeTree(v, refs));
      return map;
    }
    case 's': {
      const set = keep(new Set());
      for (const item of node.v as Tagged[]) set.add(decodeTree(item, refs));
      return set;
    }
    case 'D':
    case 'e': {
      const name = node.n as string;
      const error: Error =
        node.$ === 'D'
          ? new DOMException(node.m as string, name)
          : new (ERROR_CLASSES[name] ?? Error)(node.m as string);
      keep(error);
      if (node.$ === 'e' && !(name in ERROR_CLASSES)) {
        Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true });
      }
      if (typeof node.s === 'string') {
        Object.defineProperty(error, 'stack', { value: node.s, writable: true, configurable: true });
      }
      if ('c' in node) {
        Object.defineProperty(error, 'cause', {
          value: decodeTree(node.c as Tagged, refs),
          writable: true,
          configurable: true,
        });
      }
      return error;
    }
    default: {
      const object = keep({} as Record<string, unknown>);
      for (const [key, item] of Object.entries(node.v as Record<string, Tagged>)) object[key] = decodeTree(item, refs);
      return object;
    }
  }
}

/**
 * The bytes of `value` (read back by {@link decodeValue}).
 *
 * @example
 * ```ts
 * const bytes = encodeValue(new RangeError('too late'));
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  // The browser's own structured clone first, as a check: it refuses what a clone refuses (a
  // WeakMap, a Promise, a function deep inside) with a DataCloneError, where the walk below
  // would write such an object's own fields, none. The value itself is written: a clone would
  // drop an error's own name.
  if (typeof value === 'object' && value !== null) structuredClone(value);
  return new TextEncoder().encode(JSON.stringify(encodeTree(value, new Map())));
}

/**
 * Reverses {@link encodeValue}.
 *
 * @example
 * ```ts
 * const reason = decodeValue(encodeValue({ why: 'deadline' })); // { why: 'deadline' }
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  return decodeTree(JSON.parse(new TextDecoder().decode(bytes)) as Tagged, []);
}

/**
 * A one-line description of any value. Never throws.
 *
 * @example
 * ```ts
 * inspectValue(() => 1); // '[function]'
 * ```
 */
export function inspectValue(value: unknown): string {
  try {
    if (typeof value === 'function') return `[function ${value.name || '(anonymous)'}]`;
    if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
  } catch {
    return `[uncloneable ${typeof value}]`;
  }
}
