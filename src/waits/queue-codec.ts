/**
 * A compact codec for the values most queue items are: numbers, strings, booleans, null and
 * plain objects and arrays of them. It gives exactly what `structuredClone` gives (-0, NaN,
 * lone surrogates, key order, `undefined` values) at a fraction of the cost of V8's serializer
 * called from JavaScript (about 3 us for `{ id, name }`). Anything else (a class instance, a `Date`,
 * a `Map`, a typed array, an object met twice, a proxy...) makes {@link encodePlain} answer
 * {@link NOT_PLAIN}, and the queue uses the structured-clone codec instead.
 */
import { isProxy } from '../runtime/node-channel.js';

/** {@link encodePlain}: the value is not plain data. */
export const NOT_PLAIN = -1;
/** {@link encodePlain}: the value does not fit in the limit. */
export const TOO_LARGE = -2;

// Value tags.
const UNDEFINED = 1;
const NULL = 2;
const TRUE = 3;
const FALSE = 4;
const INT32 = 5;
const FLOAT64 = 6;
const LATIN1 = 7;
const TWO_BYTE = 8;
const OBJECT = 9;
const ARRAY = 10;

// Deeper than this, V8's serializer is as good a place to fail or succeed.
const MAX_DEPTH = 256;

class Overflow extends Error {}
class NotPlain extends Error {}
const overflow = new Overflow();
const FEW_OBJECTS = 16;
const notPlain = new NotPlain();

/** Writes plain data into a growable scratch buffer, up to a limit. */
class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  units = new Uint16Array(this.bytes.buffer);
  words = new Int32Array(this.bytes.buffer);
  pos = 0;
  limit = 0;
  /**
   * Every object met (an object met twice keeps its identity only in V8's format): the first
   * few in an array, which beats a Set for the small items most are, the rest in a Set.
   */
  readonly objects: object[] = [];
  count = 0;
  readonly more = new Set<object>();

  /** True when `value` was met before; remembers it. */
  metBefore(value: object): boolean {
    const objects = this.objects;
    const count = this.count;
    for (let i = 0; i < count; i++) if (objects[i] === value) return true;
    if (count < FEW_OBJECTS) {
      objects[count] = value;
      this.count = count + 1;
      return false;
    }
    if (this.more.has(value)) return true;
    this.more.add(value);
    return false;
  }

  /** Forgets the objects met: the item's objects are not kept alive by the scratch. */
  forget(): void {
    const objects = this.objects;
    for (let i = this.count - 1; i >= 0; i--) objects[i] = undefined as never;
    this.count = 0;
    if (this.more.size > 0) this.more.clear();
  }

  /** Makes room for `n` more bytes (throws {@link overflow} past the limit). */
  room(n: number): void {
    const end = this.pos + n;
    if (end > this.limit) throw overflow;
    if (end <= this.bytes.length) return;
    // Whole words: a queue copies the encoding into its cell a word at a time.
    const bytes = new Uint8Array(Math.ceil(Math.min(Math.max(end, this.bytes.length * 2), this.limit + 8) / 8) * 8);
    bytes.set(this.bytes.subarray(0, this.pos));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
    this.units = new Uint16Array(bytes.buffer, 0, bytes.length >>> 1);
    this.words = new Int32Array(bytes.buffer);
  }

  tag(tag: number): void {
    this.room(1);
    this.bytes[this.pos++] = tag;
  }

  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'number':
        this.number(value);
        break;
      case 'string':
        this.string(value);
        break;
      case 'boolean':
        this.tag(value ? TRUE : FALSE);
        break;
      case 'undefined':
        this.tag(UNDEFINED);
        break;
      case 'object':
        if (value === null) this.tag(NULL);
        else this.object(value, depth);
        break;
      default:
        throw notPlain; // bigint (V8's format has it), symbol and function (refused there)
    }
  }

  number(value: number): void {
    // Int32 unless -0, which only a float64 keeps.
    if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
      this.room(5);
      this.bytes[this.pos] = INT32;
      this.view.setInt32(this.pos + 1, value, true);
      this.pos += 5;
    } else {
      this.room(9);
      this.bytes[this.pos] = FLOAT64;
      this.view.setFloat64(this.pos + 1, value, true);
      this.pos += 9;
    }
  }

  /** One byte a character when all are below U+0100, else UTF-16 code units (lone surrogates kept). */
  string(value: string): void {
    const n = value.length;
    this.room(5 + n);
    const start = this.pos;
    const bytes = this.bytes;
    this.view.setUint32(start + 1, n, true);
    let i = 0;
    for (const at = start + 5; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0xff) break;
      bytes[at + i] = c;
    }
    if (i === n) {
      bytes[start] = LATIN1;
      this.pos = start + 5 + n;
      return;
    }
    // Two-byte, aligned to 2 from the start of the encoding (cells start 8-aligned too).
    const at = (start + 6) & ~1;
    this.pos = start;
    this.room(at - start + 2 * n);
    this.bytes[start] = TWO_BYTE;
    const units = this.units;
    for (let j = 0, u = at >>> 1; j < n; j++) units[u + j] = value.charCodeAt(j);
    this.pos = at + 2 * n;
  }

  object(value: object, depth: number): void {
    if (depth > MAX_DEPTH || isProxy(value) || this.metBefore(value)) throw notPlain;
    if (Array.isArray(value)) {
      this.array(value, depth);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    // A built-in object given a plain prototype (a Date, a Map, a typed array...) is cloned as
    // what it is, not as its properties: not plain. Its internal slots still show here.
    if (ArrayBuffer.isView(value) || Object.prototype.toString.call(value) !== '[object Object]') throw notPlain;
    // An arguments object (a plain prototype, its own iterator), a module namespace (a null
    // prototype, its own tag): not plain.
    if (proto === Object.prototype) {
      if (Object.hasOwn(value, Symbol.iterator)) throw notPlain;
    } else if (proto !== null || Object.hasOwn(value, Symbol.toStringTag)) {
      throw notPlain;
    }
    const keys = Object.keys(value);
    this.room(5);
    this.bytes[this.pos] = OBJECT;
    const countAt = this.pos + 1;
    this.pos += 5;
    let count = 0;
    const record = value as Record<string, unknown>;
    for (const key of keys) {
      // Assigning it would set the prototype of the copy, not a property.
      if (key === '__proto__') throw notPlain;
      const item = record[key];
      // A getter met before may have deleted it: structured clone skips it then.
      if (item === undefined && !Object.hasOwn(value, key)) continue;
      this.string(key);
      this.value(item, depth + 1);
      count++;
    }
    this.view.setUint32(countAt, count, true);
  }

  array(value: unknown[], depth: number): void {
    const n = value.length;
    // Dense, without other properties: the keys are then exactly 0..n-1, in order.
    const keys = Object.keys(value);
    if (keys.length !== n || (n > 0 && keys[n - 1] !== `${n - 1}`)) throw notPlain;
    this.room(5);
    this.bytes[this.pos] = ARRAY;
    this.view.setUint32(this.pos + 1, n, true);
    this.pos += 5;
    for (let i = 0; i < n; i++) {
      const item = value[i];
      // A getter met before may have deleted a later element: structured clone keeps the hole.
      if (item === undefined && !(i in value)) throw notPlain;
      this.value(item, depth + 1);
    }
  }
}

const writer = new Writer();
let writing = false;

let last: Writer = writer;

/**
 * Encodes `value` as plain data of at most `limit` bytes: its length in bytes (the bytes are
 * {@link encodedBytes} until the next call), or {@link NOT_PLAIN} / {@link TOO_LARGE}. Runs
 * the getters structured clone runs, and throws what they throw.
 */
export function encodePlain(value: unknown, limit: number): number {
  // A getter that puts into a queue while another item is being encoded: its own writer.
  const w = writing ? new Writer() : writer;
  const outer = writing;
  writing = true;
  w.pos = 0;
  w.limit = limit;
  try {
    w.value(value, 0);
    last = w;
    return w.pos;
  } catch (error) {
    if (error === overflow) return TOO_LARGE;
    if (error === notPlain) return NOT_PLAIN;
    throw error;
  } finally {
    w.forget();
    writing = outer;
  }
}

/** The bytes the last successful {@link encodePlain} wrote (from 0 to the length it returned). */
export function encodedBytes(): Uint8Array {
  return last.bytes;
}

/** The same bytes as whole words (the buffer holds whole words). */
export function encodedWords(): Int32Array {
  return last.words;
}

/** Reads plain data back from shared memory. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #units: Uint16Array;
  #pos = 0;

  /** @param buffer the memory the encodings are in (read at 8-aligned offsets). */
  constructor(buffer: ArrayBufferLike) {
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
    this.#units = new Uint16Array(buffer, 0, buffer.byteLength >>> 1);
  }

  /** The value encoded at byte `offset` (8-aligned, as the encoding started at 0). */
  read(offset: number): unknown {
    this.#pos = offset;
    return this.#value(offset);
  }

  #value(base: number): unknown {
    const tag = this.#bytes[this.#pos++];
    switch (tag) {
      case UNDEFINED:
        return undefined;
      case NULL:
        return null;
      case TRUE:
        return true;
      case FALSE:
        return false;
      case INT32: {
        const value = this.#view.getInt32(this.#pos, true);
        this.#pos += 4;
        return value;
      }
      case FLOAT64: {
        const value = this.#view.getFloat64(this.#pos, true);
        this.#pos += 8;
        return value;
      }
      case LATIN1:
      case TWO_BYTE:
        this.#pos--;
        return this.#string(base);
      case OBJECT: {
        const count = this.#view.getUint32(this.#pos, true);
        this.#pos += 4;
        const object: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.#string(base);
          object[key] = this.#value(base);
        }
        return object;
      }
      case ARRAY: {
        const n = this.#view.getUint32(this.#pos, true);
        this.#pos += 4;
        const array: unknown[] = [];
        for (let i = 0; i < n; i++) array.push(this.#value(base));
        return array;
      }
      default:
        throw new Error(`graceful-threads: unknown tag ${tag} in a queue item`);
    }
  }

  #string(base: number): string {
    const bytes = this.#bytes;
    const start = this.#pos;
    const n = this.#view.getUint32(start + 1, true);
    if (bytes[start] === LATIN1) {
      this.#pos = start + 5 + n;
      return decodeUnits(bytes, start + 5, n);
    }
    const at = base + ((start - base + 6) & ~1);
    this.#pos = at + 2 * n;
    return decodeUnits(this.#units, at >>> 1, n);
  }
}

const CHUNK = 4096;

// Short strings (keys, names, enum-like values) recur: the decoder keeps the last one of each
// hash, so that a recurring one is compared rather than built, and comes back internalized
// (faster as a property key).
const CACHED_LENGTH = 24;
const CACHE_SLOTS = 512;
const cache: (string | undefined)[] = new Array(CACHE_SLOTS).fill(undefined);

/** The string of `n` code units of `units` from `at`. */
function decodeUnits(units: Uint8Array | Uint16Array, at: number, n: number): string {
  if (n <= CACHED_LENGTH) {
    let hash = n;
    for (let i = 0; i < n; i++) hash = (Math.imul(hash, 31) + units[at + i]!) | 0;
    const slot = (hash ^ (hash >>> 9)) & (CACHE_SLOTS - 1);
    const cached = cache[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === units[at + i]) i++;
      if (i === n) return cached;
    }
    let text = '';
    for (let i = 0; i < n; i++) text += String.fromCharCode(units[at + i]!);
    cache[slot] = text;
    return text;
  }
  let text = '';
  for (let i = 0; i < n; i += CHUNK) {
    text += String.fromCharCode.apply(null, units.subarray(at + i, at + Math.min(n, i + CHUNK)) as unknown as number[]);
  }
  return text;
}
