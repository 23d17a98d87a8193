/**
 * A queue's items in its cells: how an item is checked and encoded before any position is
 * claimed (so a refused item leaves the queue as it was), written into a claimed cell, read out
 * and decoded. Numbers, booleans and null are stored as they are, plain data in the compact codec
 * (queue-codec.ts), anything else structured clone takes in V8's format, and what bytes cannot
 * hold (shared memory, objects that cross only by message) goes on the side path
 * (queue-channel.ts), its cell marked {@link SIDE}.
 *
 * Each position has a slot of {@link SLOT_WORDS} words, four to a cache line: `[sequence, tag,
 * number]` (the number a float64 in words 2-3; for bytes, their length in word 2). A number,
 * boolean or null lives in its slot; the bytes of other items go to the position's data cell, of
 * whole cache lines, which a stream of numbers never touches. So a stream of small values moves
 * one cache line between the cores per four items, not one per item.
 */
import { codedError, describeValue } from '../coded-errors.js';
import { BytesCloneError, decodeValue, encodeValue } from '../runtime/node-codec.js';
import { encodedBytes, encodedWords, encodePlain, NOT_PLAIN, Reader, TOO_LARGE } from './queue-codec.js';
import { pack, unpack } from './transfer.js';

/** Words of a position's slot. */
export const SLOT_WORDS = 4;

const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;
const NULL = 4;
/** The compact plain-data encoding. */
const PLAIN = 5;
/** Structured-clone bytes (V8's format). */
const CLONE = 6;
/** On the side path: the cell holds no bytes, the value travels on the queue's channel. */
export const SIDE = 7;

/** An item ready to be written to a cell. */
export interface Payload {
  tag: number;
  number: number;
  /** The encoding, from word 0, in whole words. */
  bytes: Int32Array | undefined;
  length: number;
  /** A side-path item: its packed copy. */
  side: unknown;
}

export function newPayload(): Payload {
  return { tag: 0, number: 0, bytes: undefined, length: 0, side: undefined };
}

// How what a take read becomes the item.
const AS_IS = 0;
const BYTES = 1;
export const PACKED = 2;

/** What a take found. */
export interface Taken {
  /** The attempt's outcome (the queue's WAIT, DONE or SHUT). */
  outcome: number;
  /** The item, or what it is decoded from. */
  value: unknown;
  /** How `value` becomes the item: as it is, decoded from bytes, or unpacked (side path). */
  form: number;
}

export function newTaken(): Taken {
  return { outcome: 0, value: undefined, form: AS_IS };
}

/**
 * Checks and encodes `item` into `payload`. `keep`: copy the bytes out of the shared scratch
 * buffer (for a put that may wait across other calls: the async ones).
 *
 * @throws the coded errors `put` documents: undefined, not cloneable, too large.
 */
export function prepareItem(item: unknown, payload: Payload, keep: boolean, maxItemBytes: number): void {
  payload.bytes = undefined;
  payload.side = undefined;
  switch (typeof item) {
    case 'number':
      payload.tag = NUMBER;
      payload.number = item;
      return;
    case 'boolean':
      payload.tag = item ? TRUE : FALSE;
      return;
    case 'undefined':
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        'A queue cannot hold undefined: take() returns undefined on a timeout. Put null, or wrap the value ({ value }).',
      );
    case 'object':
      if (item === null) {
        payload.tag = NULL;
        return;
      }
  }
  let length: number;
  try {
    length = encodePlain(item, maxItemBytes);
  } catch (error) {
    throw notCloneable(item, error);
  }
  if (length === TOO_LARGE) throw tooLarge(maxItemBytes, undefined);
  if (length !== NOT_PLAIN) {
    payload.tag = PLAIN;
    payload.bytes = keep ? copyOf(encodedBytes(), length) : encodedWords();
    payload.length = length;
    return;
  }
  const packed = pack(item);
  if (packed === item) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeValue(item);
    } catch (error) {
      if (!(error instanceof BytesCloneError)) throw notCloneable(item, error);
    }
    if (bytes !== undefined) {
      if (bytes.length > maxItemBytes) throw tooLarge(maxItemBytes, bytes.length);
      payload.tag = CLONE;
      payload.bytes = copyOf(bytes, bytes.length);
      payload.length = bytes.length;
      return;
    }
  }
  // Shared memory or objects that cross only by message: the side path, which posts a structured
  // clone. Cloned here, so that a refusal leaves nothing behind; the copy is what this thread
  // keeps (a take here gets a copy, as anywhere else).
  try {
    payload.side = structuredClone(packed);
  } catch (error) {
    throw notCloneable(item, error);
  }
  payload.tag = SIDE;
}

/** Writes and reads the items of one queue's cells (all but side-path values). */
export class Cells {
  readonly #words: Int32Array;
  readonly #floats: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #reader: Reader;
  readonly #slotBase: number;
  readonly #dataBase: number;
  readonly #dataWords: number;

  /** The slots from word `slotBase`, their data cells of `dataWords` words from word `dataBase`. */
  constructor(buffer: SharedArrayBuffer, slotBase: number, dataBase: number, dataWords: number) {
    this.#slotBase = slotBase;
    this.#dataBase = dataBase;
    this.#dataWords = dataWords;
    this.#words = new Int32Array(buffer);
    this.#floats = new Float64Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#reader = new Reader(buffer);
  }

  /** Writes `payload` into the slot at word `slot` and, for bytes, its data cell; claimed by the caller. */
  write(slot: number, payload: Payload): void {
    const words = this.#words;
    const tag = payload.tag;
    words[slot + 1] = tag;
    if (tag === NUMBER) {
      this.#floats[(slot + 2) >>> 1] = payload.number;
    } else if (tag === PLAIN || tag === CLONE) {
      const length = payload.length;
      words[slot + 2] = length;
      copyInto(words, this.#dataOf(slot), payload.bytes!, length);
    }
  }

  /**
   * Reads the item of the slot at word `slot` (its bytes from its data cell), claimed by the
   * caller: plain data is decoded now, bytes that need V8's deserializer are copied out (decoded
   * after the cell is free).
   */
  read(slot: number, taken: Taken): void {
    const words = this.#words;
    taken.form = AS_IS;
    switch (words[slot + 1]) {
      case NUMBER:
        taken.value = this.#floats[(slot + 2) >>> 1];
        return;
      case TRUE:
        taken.value = true;
        return;
      case FALSE:
        taken.value = false;
        return;
      case NULL:
        taken.value = null;
        return;
      case PLAIN:
        taken.value = this.#reader.read(this.#dataOf(slot) << 2);
        return;
      case CLONE: {
        const at = this.#dataOf(slot) << 2;
        taken.value = this.#bytes.slice(at, at + words[slot + 2]!);
        taken.form = BYTES;
        return;
      }
      default:
        throw new Error(`graceful-threads: unknown item tag ${words[slot + 1]} in a queue slot`);
    }
  }

  /** The word of the data cell of the slot at word `slot`. */
  #dataOf(slot: number): number {
    return this.#dataBase + ((slot - this.#slotBase) / SLOT_WORDS) * this.#dataWords;
  }
}

/** The item a take read, decoded (and its shared objects revived). */
export function finishTake(taken: Taken): unknown {
  const value = taken.value;
  taken.value = undefined;
  const form = taken.form;
  if (form === AS_IS) return value;
  return form === BYTES ? decodeValue(value as Uint8Array) : unpack(value);
}

/** Copies `length` bytes of `source` (whole words from 0) to `words` from word `at`: small items word by word, faster than `set()`. */
function copyInto(words: Int32Array, at: number, source: Int32Array, length: number): void {
  const n = (length + 3) >>> 2;
  if (n > 64) {
    words.set(source.subarray(0, n), at);
    return;
  }
  for (let i = n - 1; i >= 0; i--) words[at + i] = source[i]!;
}

/** A copy of the first `length` bytes of `bytes`, as whole words. */
function copyOf(bytes: Uint8Array, length: number): Int32Array {
  const copy = new Int32Array(Math.ceil(length / 8) * 2);
  new Uint8Array(copy.buffer).set(bytes.subarray(0, length));
  return copy;
}

function tooLarge(limit: number, size: number | undefined): RangeError {
  return codedError(
    RangeError,
    'ERR_QUEUE_ITEM_TOO_LARGE',
    `The item takes ${size === undefined ? 'more than' : `${size} bytes, more than`} ${limit} bytes (the queue's maxItemBytes). Split it, or make the queue with a larger maxItemBytes. Nothing was put.`,
  );
}

function notCloneable(item: unknown, cause: unknown): TypeError {
  const reason = (cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '');
  return codedError(
    TypeError,
    'ERR_QUEUE_ITEM_NOT_CLONEABLE',
    `The item (${describeValue(item)}) cannot be structured-cloned: ${reason}. Put plain data, shared objects or SharedArrayBuffers. Nothing was put.`,
    cause,
  );
}
