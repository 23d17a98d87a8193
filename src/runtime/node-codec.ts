/**
 * Values to bytes and back with the semantics of `structuredClone`, for interrupt reasons kept in
 * shared memory. `v8.serialize` is not structured clone: it loses a `DOMException` (`{}` on Node 20,
 * a blank `Error` on 24 and 26), turns the objects Node clones by message (`BlockList`, `Blob`…) into
 * `{}` on Node 24 and 26, and accepts what `structuredClone` refuses (`URL`, `Headers`). So the value
 * is first copied the way structured clone copies it, with each `DOMException` replaced by a marker
 * the serializer writes as a host object, and what bytes cannot hold (shared memory, objects that
 * cross only by message) is refused by name.
 */

// node:util and node:v8 are fetched on first use rather than imported: every thread loads this
// module, importing them costs each thread's start 0.1-0.4 ms (Node 26), and only interrupt
// reasons and failures need them.
const util = (): typeof import('node:util') => process.getBuiltinModule('node:util');

import { BytesCloneError, type BytesRefusal } from '../bytes-clone-error.js';

export { BytesCloneError, type BytesRefusal };

interface DomExceptionData {
  readonly name: string;
  readonly message: string;
  readonly stack: unknown;
}

const HOST_DOM_EXCEPTION = 1;
const HOST_VIEW = 2;

const domName = Object.getOwnPropertyDescriptor(DOMException.prototype, 'name')?.get;
const domMessage = Object.getOwnPropertyDescriptor(DOMException.prototype, 'message')?.get;
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)
  ?.get as ((this: unknown) => string | undefined) | undefined;

const viewClasses = new Map<string, new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView>();
for (const name of [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
]) {
  const cls = (globalThis as Record<string, unknown>)[name];
  if (typeof cls === 'function') viewClasses.set(name, cls as never);
}

// A brand check: the getter throws for anything but a real DOMException (Node 20's DOMException is
// a plain JavaScript object to V8, Node 24's an error whose fields V8 does not see).
function domExceptionData(value: object): DomExceptionData | undefined {
  if (!(value instanceof DOMException) || domName === undefined || domMessage === undefined) return undefined;
  try {
    return { name: domName.call(value), message: domMessage.call(value), stack: (value as Error).stack };
  } catch {
    return undefined;
  }
}

function classNameOf(value: object): string {
  try {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'Object';
  } catch {
    return 'Object';
  }
}

function isShared(value: object): boolean {
  const { types } = util();
  return types.isSharedArrayBuffer(value) || (ArrayBuffer.isView(value) && types.isSharedArrayBuffer(value.buffer));
}

/**
 * Runs `make` without capturing a stack trace, for errors whose stack is overwritten anyway
 * (capturing one costs microseconds, tens of them on Node 20).
 *
 * @example
 * ```ts
 * const error = withoutStackTrace(() => new DOMException(message, name));
 * ```
 */
export function withoutStackTrace<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function define(target: object, key: PropertyKey, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
}

/**
 * Copies a value as structured clone reads it (own enumerable properties through their getters,
 * Map and Set entries, an error's name, message, stack and cause), so that what the serializer then
 * sees holds no `DOMException` (each becomes a marker) and nothing bytes cannot hold. Objects the
 * serializer copies as structured clone does (dates, regular expressions, buffers, boxed
 * primitives) and those both refuse (functions, proxies, promises…) are left as they are.
 */
class StructuredCopy {
  /** Marker: the DOMException it stands for. */
  readonly markers = new Map<object, DomExceptionData>();
  readonly #copies = new Map<object, unknown>();

  copy(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (this.#copies.has(value)) return this.#copies.get(value);
    const { types } = util();
    if (types.isProxy(value)) return value;
    if (isShared(value)) throw new BytesCloneError('shared-memory', classNameOf(value));
    const dom = domExceptionData(value);
    if (dom !== undefined) {
      // A view: the serializer hands views to its host-object hook once markers exist.
      const marker = new Uint8Array(0);
      this.markers.set(marker, dom);
      this.#copies.set(value, marker);
      return marker;
    }
    if (types.isNativeError(value)) return this.#copyError(value as Error);
    if (Array.isArray(value)) return this.#copyProperties(value, new Array(value.length));
    if (types.isMap(value)) return this.#copyMap(value);
    if (types.isSet(value)) return this.#copySet(value);
    if (
      types.isDate(value) ||
      types.isRegExp(value) ||
      types.isBoxedPrimitive(value) ||
      types.isAnyArrayBuffer(value) ||
      ArrayBuffer.isView(value)
    ) {
      return value;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    const plain =
      (proto === Object.prototype || proto === null) &&
      !types.isArgumentsObject(value) &&
      !types.isModuleNamespaceObject(value);
    if (!plain) {
      // A class instance, an exotic object or one of the platform's: structured clone says which
      // (it throws for what it refuses, and keeps the class of what it clones by message).
      if (Object.getPrototypeOf(structuredClone(value)) !== Object.prototype) {
        throw new BytesCloneError('message-only', classNameOf(value));
      }
    }
    return this.#copyProperties(value, {});
  }

  #copyProperties(source: object, target: object): object {
    this.#copies.set(source, target);
    for (const key of Object.keys(source)) {
      // A getter run before may have deleted it, as structured clone checks too.
      if (!Object.hasOwn(source, key)) continue;
      define(target, key, this.copy((source as Record<string, unknown>)[key]), true);
    }
    return target;
  }

  #copyMap(source: Map<unknown, unknown>): Map<unknown, unknown> {
    const target = new Map();
    this.#copies.set(source, target);
    for (const [key, value] of Map.prototype.entries.call(source)) target.set(this.copy(key), this.copy(value));
    return target;
  }

  #copySet(source: Set<unknown>): Set<unknown> {
    const target = new Set();
    this.#copies.set(source, target);
    for (const value of Set.prototype.values.call(source)) target.add(this.copy(value));
    return target;
  }

  // What V8 writes of an error, read in its order: own data `message` and `cause`, `name` (its
  // class on the other side), `stack` if a string.
  #copyError(source: Error): Error {
    const target = withoutStackTrace(() => new Error());
    this.#copies.set(source, target);
    const message = Object.getOwnPropertyDescriptor(source, 'message');
    const cause = Object.getOwnPropertyDescriptor(source, 'cause');
    define(target, 'name', `${source.name}`, false);
    if (message !== undefined && 'value' in message) define(target, 'message', `${message.value}`, false);
    const stack: unknown = source.stack;
    define(target, 'stack', typeof stack === 'string' ? stack : undefined, false);
    if (cause !== undefined && 'value' in cause) define(target, 'cause', this.copy(cause.value), false);
    return target;
  }
}

// The serializer's classes extend node:v8's, so they are made on first use too.
function makeSerdes() {
  const { Deserializer, Serializer } = process.getBuiltinModule('node:v8');

  class BytesSerializer extends Serializer {
    readonly #markers: ReadonlyMap<object, DomExceptionData>;

    constructor(markers: ReadonlyMap<object, DomExceptionData>) {
      super();
      this.#markers = markers;
      if (markers.size > 0) {
        (
          this as unknown as { _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void }
        )._setTreatArrayBufferViewsAsHostObjects(true);
      }
    }

    _writeHostObject(object: object): void {
      const dom = this.#markers.get(object);
      if (dom !== undefined) {
        this.writeUint32(HOST_DOM_EXCEPTION);
        this.writeValue(dom.name);
        this.writeValue(dom.message);
        this.writeValue(typeof dom.stack === 'string' ? dom.stack : undefined);
        return;
      }
      if (ArrayBuffer.isView(object)) {
        // The buffer as a value of its own, so views of one buffer still share it once decoded.
        this.writeUint32(HOST_VIEW);
        this.writeValue(object.buffer);
        this.writeValue(typedArrayTag?.call(object) ?? 'DataView');
        this.writeDouble(object.byteOffset);
        this.writeDouble(util().types.isDataView(object) ? object.byteLength : (object as Uint8Array).length);
        return;
      }
      throw new BytesCloneError('message-only', classNameOf(object));
    }

    _getSharedArrayBufferId(buffer: SharedArrayBuffer): never {
      throw new BytesCloneError('shared-memory', classNameOf(buffer));
    }
  }

  class BytesDeserializer extends Deserializer {
    _readHostObject(): object {
      const kind = this.readUint32();
      if (kind === HOST_DOM_EXCEPTION) {
        const name = this.readValue() as string;
        const message = this.readValue() as string;
        const stack = this.readValue() as unknown;
        if (typeof stack !== 'string') return new DOMException(message, name);
        const error = withoutStackTrace(() => new DOMException(message, name));
        define(error, 'stack', stack, false);
        return error;
      }
      if (kind === HOST_VIEW) {
        const buffer = this.readValue() as ArrayBuffer;
        const cls = viewClasses.get(this.readValue() as string);
        const offset = this.readDouble();
        const length = this.readDouble();
        if (cls !== undefined) return new cls(buffer, offset, length);
      }
      throw new Error('graceful-threads: unknown host object in encoded value');
    }
  }

  return { BytesSerializer, BytesDeserializer };
}

let serdes: ReturnType<typeof makeSerdes> | undefined;

/** Bun's structured clone to bytes and back (its module bun:jsc). */
interface JscSerialization {
  serialize(value: unknown, options: { binaryType: 'nodebuffer' }): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/**
 * Bun has no node:v8 `Serializer` (it throws ERR_NOT_IMPLEMENTED), but its bun:jsc module
 * structured-clones to bytes, keeping a `DOMException` as it is (an error's `cause` is lost:
 * JavaScriptCore's structured clone does not carry it). Undefined on Node and Deno.
 */
const jsc: JscSerialization | undefined =
  process.versions.bun === undefined
    ? undefined
    : (process.getBuiltinModule as (id: string) => JscSerialization)('bun:jsc');

function serdesClasses(): ReturnType<typeof makeSerdes> {
  serdes ??= makeSerdes();
  return serdes;
}

/**
 * Structured-clones `value` into bytes. Throws what `structuredClone` throws for what it cannot
 * clone (a `DataCloneError`, or the error of a throwing getter), and a {@link BytesCloneError} for
 * what it clones but bytes cannot hold. A `DOMException` keeps its class, name, code, message and
 * stack (as `structuredClone` keeps them on Node 24, and unlike Node 20's).
 *
 * @example
 * ```ts
 * const bytes = encodeValue(AbortSignal.timeout(1).reason);
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  const copier = new StructuredCopy();
  const copy = copier.copy(value);
  // The copy refused what bytes cannot hold; Bun's serializer takes the value itself.
  if (jsc !== undefined) return jsc.serialize(value, { binaryType: 'nodebuffer' });
  const serializer = new (serdesClasses().BytesSerializer)(copier.markers);
  serializer.writeHeader();
  serializer.writeValue(copy);
  return serializer.releaseBuffer();
}

/**
 * Reverses {@link encodeValue}.
 *
 * @example
 * ```ts
 * const reason = decodeValue(encodeValue(new DOMException('late', 'TimeoutError'))); // a DOMException
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (jsc !== undefined) return jsc.deserialize(bytes);
  const deserializer = new (serdesClasses().BytesDeserializer)(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}

/**
 * A one-line description of any value, for values that cannot be cloned (Node's worker threads
 * describe an uncloneable thrown value the same way). Never throws.
 *
 * @example
 * ```ts
 * inspectValue(() => 1); // '[Function (anonymous)]'
 * ```
 */
export function inspectValue(value: unknown): string {
  try {
    const text = util().inspect(value, {
      depth: 2,
      maxArrayLength: 20,
      maxStringLength: 200,
      breakLength: Number.POSITIVE_INFINITY,
    });
    return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
  } catch {
    return `[uncloneable ${typeof value}]`;
  }
}
