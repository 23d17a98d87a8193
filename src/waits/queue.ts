/**
 * A bounded multi-producer, multi-consumer FIFO between threads, through shared memory, whose
 * waits are interruption points.
 *
 * The items live in a ring of `capacity` fixed-size cells (Dmitry Vyukov's bounded MPMC queue):
 * each cell has a sequence word saying whose turn it is, a putter claims a position with one
 * compare-and-swap on the tail and publishes the cell by storing its sequence, a taker claims one
 * on the head the same way. Copies into and out of cells run in parallel, nothing is held across
 * a wait, and a position is claimed only when the call can complete: an interrupt or a timeout
 * never loses an item or leaves a hole. A waker notifies only when some thread is parked.
 *
 * Positions count modulo `capacity × ⌊2^30 / capacity⌋`; bit 30 of the tail word is the closed
 * flag, so a put and `close()` are ordered by that one word.
 */
import { memoryId } from '../control-block.js';
import { interruptedError, interruptPending } from '../current.js';
import { codedError, describeValue, invalidArgType } from '../errors.js';
import { BytesCloneError, decodeValue, encodeValue } from '../runtime/node.js';
import { validateCount, validateTimeout } from './arguments.js';
import { waitUntil, waitUntilAsync } from './park.js';
import { ChannelLink, type LinkHost } from './queue-channel.js';
import { type Encoded, encodePlain, NOT_PLAIN, Reader, TOO_LARGE } from './queue-codec.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import { pack, unpack } from './transfer.js';
import type { WaitQueue } from './wait-queue.js';

// Words. Head and tail on cache lines of their own: putters and takers write them.
const TAIL = 0;
const HEAD = 16;
/** Bumped by each thread asking for a side-path value. */
const NEEDS = 32;
const STATE_WORDS = 48;
const TAKERS = 0;
const PUTTERS = 1;
const KIND = 'Queue';

const CLOSED = 1 << 30;
const POSITION = CLOSED - 1;

// A cell: [sequence, tag, byte length, unused] words, then the item's bytes (8-aligned).
const CELL_HEADER_WORDS = 4;
const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;
const NULL = 4;
/** The compact plain-data encoding (queue-codec.ts). */
const PLAIN = 5;
/** Structured-clone bytes (V8's format). */
const CLONE = 6;
/** On the side path: the value travels on the channel. */
const SIDE = 7;

const MAX_CAPACITY = 2 ** 20;
const MAX_ITEM_BYTES = 2 ** 28;
const MAX_RING_BYTES = 2 ** 31 - 2 ** 16;
/** The default item limit: room for records and short texts without much memory per cell. */
const DEFAULT_ITEM_BYTES = 4096;

/**
 * Attempts before a blocking call parks: a put or take a few microseconds away (the other side
 * running on another core) costs less than parking and being woken.
 */
const SPINS = Number(process.env.GT_SPINS ?? 100);

/** A linked thread reads its channel at least once every this many queue operations. */
const DRAIN_EVERY = 256;

// Outcomes of one attempt.
const WAIT = 0;
const DONE = 1;
const SHUT = 2;

/** Options of a {@link Queue}. */
export interface QueueOptions {
  /** How many items it holds at most: a put waits while it is full. An integer from 1 to 2^20. */
  readonly capacity: number;
  /**
   * The largest item, in bytes of its encoding (8 for a number, about one per character of a
   * string, a few more per property of an object): a larger one is refused with
   * `ERR_QUEUE_ITEM_TOO_LARGE`. Each cell reserves this much. Default 4096.
   */
  readonly maxItemBytes?: number;
}

/** An item ready to be written to a cell. */
interface Payload {
  tag: number;
  number: number;
  bytes: Uint8Array | undefined;
  length: number;
  /** The packed value of a side-path item. */
  side: unknown;
}

/** What a take found. */
interface Taken {
  outcome: number;
  /** The item, or what it is decoded from. */
  value: unknown;
  /** How `value` becomes the item: as it is, decoded from bytes, or unpacked (side path). */
  form: number;
}
const AS_IS = 0;
const BYTES = 1;
const PACKED = 2;

let reviving: { backlog: readonly (readonly [number, unknown])[] } | undefined;

/**
 * A bounded FIFO of structured-cloneable values between threads: any number of threads put and
 * take. `put` waits while it is full, `take` while it is empty; both waits are interruption
 * points that never lose an item (an interrupted taker has taken nothing, an interrupted putter
 * has put nothing). Items travel through shared memory, so a consumer busy in synchronous code
 * can take them; an item holding a shared object (a `Lock`, another `Queue`…) arrives as a
 * working instance. `close()` ends it: puts throw `ERR_QUEUE_CLOSED`, takers get what is left,
 * then `ERR_QUEUE_CLOSED`, and both iterations end.
 *
 * Works in the main thread and in every thread; pass it to a thread in `args` (or as an item).
 *
 * @example
 * ```ts
 * const jobs = new Queue<{ id: number; url: string }>({ capacity: 64 });
 * const worker = new Thread(new URL('./fetcher.js', import.meta.url), { args: [jobs] }).start();
 * for (const [id, url] of urls.entries()) await jobs.putAsync({ id, url });
 * jobs.close();
 * await worker.join();
 * // fetcher.js
 * export function run(jobs) {
 *   for (const job of jobs) fetchSync(job); // ends when the queue is closed and drained
 * }
 * ```
 */
export class Queue<T = unknown> implements SharedObject, Iterable<T>, AsyncIterable<T> {
  readonly #memory: SharedMemory;
  readonly #words: Int32Array;
  readonly #floats: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #reader: Reader;
  readonly #takers: WaitQueue;
  readonly #putters: WaitQueue;
  readonly #capacity: number;
  readonly #maxItemBytes: number;
  /** The number of positions: a multiple of the capacity below 2^30. */
  readonly #modulus: number;
  readonly #cells: number;
  readonly #cellWords: number;
  #link: ChannelLink | undefined;
  #needsSeen = 0;
  /** Operations since this thread's link last read its channel. */
  #sinceDrain = 0;
  /** The sync calls' payload and result, reused (they never overlap in a thread). */
  readonly #payload: Payload = { tag: 0, number: 0, bytes: undefined, length: 0, side: undefined };
  readonly #taken: Taken = { outcome: WAIT, value: undefined, form: AS_IS };
  #putOutcome = WAIT;
  readonly #putAttempt = (): boolean => (this.#putOutcome = this.#offer(this.#payload)) !== WAIT;
  readonly #takeAttempt = (): boolean => this.#poll(this.#taken) !== WAIT;

  /**
   * @param options `capacity` (required) and `maxItemBytes` (default 4096): the ring takes
   *   about `capacity × (maxItemBytes + 16)` bytes of shared memory.
   */
  constructor(options: QueueOptions) {
    let fresh = false;
    this.#memory = memoryFor(this, KIND, () => {
      const [capacity, maxItemBytes] = validateOptions(options);
      fresh = true;
      return SharedMemory.allocate(KIND, STATE_WORDS, 2, [capacity, maxItemBytes], capacity * cellBytes(maxItemBytes));
    });
    const memory = this.#memory;
    this.#capacity = memory.config[0]!;
    this.#maxItemBytes = memory.config[1]!;
    this.#modulus = this.#capacity * Math.floor(2 ** 30 / this.#capacity);
    this.#words = memory.words;
    this.#floats = new Float64Array(memory.buffer);
    this.#bytes = new Uint8Array(memory.buffer);
    this.#reader = new Reader(memory.buffer);
    this.#takers = memory.queue(STATE_WORDS, TAKERS);
    this.#putters = memory.queue(STATE_WORDS, PUTTERS);
    this.#cells = memory.extraOffset(STATE_WORDS, 2) >>> 2;
    this.#cellWords = cellBytes(this.#maxItemBytes) >>> 2;
    if (fresh) {
      // Cell i is free for the putter at position i.
      for (let i = 0; i < this.#capacity; i++) this.#words[this.#cells + i * this.#cellWords] = i;
    }
    const backlog = reviving?.backlog;
    reviving = undefined;
    if (backlog !== undefined && backlog.length > 0) this.#joinChannel(backlog);
  }

  /** How many items it holds at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The largest item it takes, in bytes. */
  get maxItemBytes(): number {
    return this.#maxItemBytes;
  }

  /**
   * How many items it holds now (put, or being put, and not yet taken).
   *
   * @example
   * ```ts
   * if (queue.size === queue.capacity) console.warn('consumers are falling behind');
   * ```
   */
  get size(): number {
    const tail = Atomics.load(this.#words, TAIL) & POSITION;
    const size = this.#wrap(tail - Atomics.load(this.#words, HEAD));
    return Math.max(0, Math.min(this.#capacity, size));
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return (Atomics.load(this.#words, TAIL) & CLOSED) !== 0;
  }

  /**
   * Adds `item` at the end, waiting up to `timeoutMs` (default: no limit) while the queue is
   * full. The item is copied as `structuredClone` copies it. An interruption point: on an
   * interrupt it throws {@link ThreadInterruptedError} without having put the item.
   *
   * @returns true once put; false when the timeout passed first (nothing was put).
   * @throws TypeError `ERR_INVALID_ARG_VALUE` for `undefined` (what `take` returns on timeout);
   *   `ERR_QUEUE_ITEM_NOT_CLONEABLE` when structured clone refuses it; RangeError
   *   `ERR_QUEUE_ITEM_TOO_LARGE` past `maxItemBytes`; Error `ERR_QUEUE_CLOSED` when the queue
   *   is closed, or gets closed while this waits.
   * @example
   * ```ts
   * if (!results.put({ id, rows }, 5_000)) throw new Error('the writer is stuck');
   * ```
   */
  put(item: T, timeoutMs?: number): boolean {
    const timeout = validateTimeout(timeoutMs);
    const payload = this.#payload;
    this.#prepare(item, payload, false);
    if (interruptPending()) throw interruptedError();
    let outcome = this.#offer(payload);
    for (let spin = timeout > 0 ? SPINS : 0; outcome === WAIT && spin > 0; spin--) outcome = this.#offer(payload);
    if (outcome === WAIT) {
      this.#putOutcome = WAIT;
      if (!waitUntil(this.#putters, this.#putAttempt, timeout)) return false;
      outcome = this.#putOutcome;
    }
    if (outcome === SHUT) throw closedError();
    return true;
  }

  /**
   * Adds `item` if there is room now; never waits.
   *
   * @returns false when the queue is full.
   * @throws as {@link put} does, `ERR_QUEUE_CLOSED` included.
   * @example
   * ```ts
   * if (!events.tryPut(event)) dropped++;
   * ```
   */
  tryPut(item: T): boolean {
    this.#prepare(item, this.#payload, false);
    const outcome = this.#offer(this.#payload);
    if (outcome === SHUT) throw closedError();
    return outcome === DONE;
  }

  /**
   * The awaitable {@link put}: does not block the event loop, and keeps the thread alive while
   * it waits.
   *
   * @example
   * ```ts
   * for await (const line of lines) await queue.putAsync(line);
   * queue.close();
   * ```
   */
  putAsync(item: T, timeoutMs?: number): Promise<boolean> {
    try {
      const timeout = validateTimeout(timeoutMs);
      const payload: Payload = { tag: 0, number: 0, bytes: undefined, length: 0, side: undefined };
      this.#prepare(item, payload, true);
      let outcome = WAIT;
      return waitUntilAsync(this.#putters, () => (outcome = this.#offer(payload)) !== WAIT, timeout).then((put) => {
        if (put && outcome === SHUT) throw closedError();
        return put;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Removes and returns the first item, waiting up to `timeoutMs` (default: no limit) while the
   * queue is empty. An interruption point: on an interrupt it throws
   * {@link ThreadInterruptedError} and has taken nothing.
   *
   * @returns the item; undefined only when the timeout passed first.
   * @throws Error `ERR_QUEUE_CLOSED` once the queue is closed and empty.
   * @example
   * ```ts
   * const job = jobs.take(1_000);
   * if (job === undefined) return idle();
   * ```
   */
  take(timeoutMs?: number): T | undefined {
    const timeout = validateTimeout(timeoutMs);
    const taken = this.#taken;
    if (interruptPending()) throw interruptedError();
    let outcome = this.#poll(taken);
    for (let spin = timeout > 0 ? SPINS : 0; outcome === WAIT && spin > 0; spin--) outcome = this.#poll(taken);
    if (outcome === WAIT && !waitUntil(this.#takers, this.#takeAttempt, timeout)) return undefined;
    return this.#deliver(taken) as T;
  }

  /**
   * Removes and returns the first item if there is one; never waits.
   *
   * @returns undefined when the queue is empty.
   * @throws Error `ERR_QUEUE_CLOSED` once the queue is closed and empty.
   * @example
   * ```ts
   * for (let job = jobs.tryTake(); job !== undefined; job = jobs.tryTake()) run(job);
   * ```
   */
  tryTake(): T | undefined {
    const taken = this.#taken;
    if (this.#poll(taken) === WAIT) return undefined;
    return this.#deliver(taken) as T;
  }

  /**
   * The awaitable {@link take}: does not block the event loop, and keeps the thread alive while
   * it waits.
   *
   * @example
   * ```ts
   * const result = await results.takeAsync();
   * ```
   */
  takeAsync(timeoutMs?: number): Promise<T | undefined> {
    try {
      const timeout = validateTimeout(timeoutMs);
      const taken: Taken = { outcome: WAIT, value: undefined, form: AS_IS };
      return waitUntilAsync(this.#takers, () => this.#poll(taken) !== WAIT, timeout).then((done) =>
        done ? (this.#deliver(taken) as T) : undefined,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the queue: later puts throw `ERR_QUEUE_CLOSED` (and so do the puts waiting now),
   * takers get the items left and then `ERR_QUEUE_CLOSED`, and iterations end. Closing twice
   * is harmless.
   *
   * @example
   * ```ts
   * process.once('SIGINT', () => jobs.close()); // consumers finish what is queued, then end
   * ```
   */
  close(): void {
    Atomics.or(this.#words, TAIL, CLOSED);
    this.#takers.wakeAll();
    this.#putters.wakeAll();
  }

  /**
   * Takes items until the queue is closed and drained: `for (const item of queue)`. Each step is
   * a {@link take} (an interruption point).
   */
  *[Symbol.iterator](): Iterator<T> {
    for (;;) {
      let item: T | undefined;
      try {
        item = this.take();
      } catch (error) {
        if (isClosedError(error)) return;
        throw error;
      }
      yield item as T;
    }
  }

  /** Takes items until the queue is closed and drained: `for await (const item of queue)`. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let item: T | undefined;
      try {
        item = await this.takeAsync();
      } catch (error) {
        if (isClosedError(error)) return;
        throw error;
      }
      yield item as T;
    }
  }

  // Encoding, before any position is claimed: a refused item leaves the queue as it was.
  #prepare(item: unknown, payload: Payload, keep: boolean): void {
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
    let encoded: Encoded | typeof NOT_PLAIN | typeof TOO_LARGE;
    try {
      encoded = encodePlain(item, this.#maxItemBytes);
    } catch (error) {
      throw notCloneable(item, error);
    }
    if (encoded === TOO_LARGE) throw tooLarge(this.#maxItemBytes, undefined);
    if (encoded !== NOT_PLAIN) {
      payload.tag = PLAIN;
      payload.bytes = keep ? encoded.bytes.slice(0, encoded.length) : encoded.bytes;
      payload.length = encoded.length;
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
        if (bytes.length > this.#maxItemBytes) throw tooLarge(this.#maxItemBytes, bytes.length);
        payload.tag = CLONE;
        payload.bytes = bytes;
        payload.length = bytes.length;
        return;
      }
    }
    // Shared memory or objects that cross only by message: the side path, which posts a
    // structured clone. Checked here, so that a refusal leaves nothing behind.
    // The copy is what this thread keeps: a take here gets a copy, as anywhere else.
    try {
      payload.side = structuredClone(packed);
    } catch (error) {
      throw notCloneable(item, error);
    }
    payload.tag = SIDE;
  }

  /** One attempt to put: DONE, WAIT (full), or SHUT (closed). */
  #offer(payload: Payload): number {
    this.#serviceNeeds();
    const words = this.#words;
    for (;;) {
      const tail = Atomics.load(words, TAIL);
      if ((tail & CLOSED) !== 0) return SHUT;
      const cell = this.#cellOf(tail);
      const turn = this.#wrap(Atomics.load(words, cell) - tail);
      if (turn === 0) {
        const next = tail + 1 === this.#modulus ? 0 : tail + 1;
        if (Atomics.compareExchange(words, TAIL, tail, next) !== tail) continue;
        this.#write(cell, tail, payload);
        Atomics.store(words, cell, next);
        this.#wakeAfterPut(tail, next);
        return DONE;
      }
      // Behind: the cell still holds the item of the previous lap (full), unless the tail moved.
      if (turn < 0 && Atomics.load(words, TAIL) === tail) return WAIT;
    }
  }

  /**
   * Wakes whom a put at `position` may concern, and only them: the takers when the item is at
   * the head (they may sleep on an empty queue: later items find them awake or are taken by
   * the taker of this one, which passes the wake on), and the putters when the next cell is
   * free (this put took the room a woken putter was after). Each check reads after the store
   * that published, and a waiter enlists before its last look: one of the two sees the other.
   */
  #wakeAfterPut(position: number, next: number): void {
    const words = this.#words;
    if (this.#takers.hasWaiters() && Atomics.load(words, HEAD) === position) this.#takers.wakeAll();
    if (this.#putters.hasWaiters() && Atomics.load(words, this.#cellOf(next)) === next) this.#putters.wakeAll();
  }

  /** The same for a take at `position`: putters when its cell is the one the tail waits for, takers when the next item is in. */
  #wakeAfterTake(position: number, next: number): void {
    const words = this.#words;
    if (this.#putters.hasWaiters()) {
      const freed = this.#plus(position, this.#capacity);
      if ((Atomics.load(words, TAIL) & POSITION) === freed) this.#putters.wakeAll();
    }
    if (this.#takers.hasWaiters()) {
      const after = next + 1 === this.#modulus ? 0 : next + 1;
      if (Atomics.load(words, this.#cellOf(next)) === after) this.#takers.wakeAll();
    }
  }

  #write(cell: number, position: number, payload: Payload): void {
    const words = this.#words;
    const tag = payload.tag;
    words[cell + 1] = tag;
    const data = (cell + CELL_HEADER_WORDS) << 2;
    if (tag === NUMBER) {
      this.#floats[data >>> 3] = payload.number;
    } else if (tag === PLAIN || tag === CLONE) {
      const length = payload.length;
      words[cell + 2] = length;
      this.#bytes.set(length === payload.bytes!.length ? payload.bytes! : payload.bytes!.subarray(0, length), data);
    } else if (tag === SIDE) {
      this.#sideLink().post(position, payload.side);
    }
  }

  /** One attempt to take: DONE (the item in `taken`), WAIT (empty), or SHUT (closed and drained). */
  #poll(taken: Taken): number {
    this.#serviceNeeds();
    const words = this.#words;
    for (;;) {
      const head = Atomics.load(words, HEAD);
      const cell = this.#cellOf(head);
      const next = head + 1 === this.#modulus ? 0 : head + 1;
      const turn = this.#wrap(Atomics.load(words, cell) - next);
      if (turn === 0) {
        // A side-path item is claimed only once its value is here.
        if (words[cell + 1] === SIDE && !this.#sideLink().has(head)) {
          if (Atomics.load(words, HEAD) === head) return WAIT;
          continue;
        }
        if (Atomics.compareExchange(words, HEAD, head, next) !== head) continue;
        this.#read(cell, head, taken);
        Atomics.store(words, cell, this.#plus(head, this.#capacity));
        this.#wakeAfterTake(head, next);
        return (taken.outcome = DONE);
      }
      if (turn < 0) {
        const tail = Atomics.load(words, TAIL);
        if ((tail & POSITION) === head) {
          if ((tail & CLOSED) === 0) return WAIT;
          return (taken.outcome = SHUT);
        }
        // Claimed by a putter that has not published yet: it wakes the takers when it does.
        if (Atomics.load(words, HEAD) === head) return WAIT;
      }
    }
  }

  /** Reads the claimed cell. Bytes that need decoding are copied out, the cell freed sooner. */
  #read(cell: number, position: number, taken: Taken): void {
    const words = this.#words;
    const data = (cell + CELL_HEADER_WORDS) << 2;
    taken.form = AS_IS;
    switch (words[cell + 1]) {
      case NUMBER:
        taken.value = this.#floats[data >>> 3];
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
        taken.value = this.#reader.read(data);
        return;
      case CLONE:
        taken.value = this.#bytes.slice(data, data + words[cell + 2]!);
        taken.form = BYTES;
        return;
      default:
        taken.value = this.#sideLink().take(position);
        taken.form = PACKED;
    }
  }

  /** The item a successful attempt took, decoded; or the closed error. */
  #deliver(taken: Taken): unknown {
    if (taken.outcome === SHUT) throw closedError();
    const { value, form } = taken;
    taken.value = undefined;
    if (form === BYTES) return decodeValue(value as Uint8Array);
    if (form === PACKED) return unpack(value);
    return value;
  }

  /** The word index of the cell of `position`. */
  #cellOf(position: number): number {
    return this.#cells + (position % this.#capacity) * this.#cellWords;
  }

  /** The position `k` (< the modulus) after `position`. */
  #plus(position: number, k: number): number {
    const sum = position + k;
    return sum >= this.#modulus ? sum - this.#modulus : sum;
  }

  /** `difference` of two positions, as the signed distance between them. */
  #wrap(difference: number): number {
    const m = this.#modulus;
    if (difference >= m >>> 1) return difference - m;
    if (difference < -(m >>> 1)) return difference + m;
    return difference;
  }

  #sideLink(): ChannelLink {
    return this.#link ?? this.#joinChannel(undefined);
  }

  #joinChannel(backlog: readonly (readonly [number, unknown])[] | undefined): ChannelLink {
    const words = this.#words;
    const takers = this.#takers;
    const putters = this.#putters;
    const modulus = this.#modulus;
    const capacity = this.#capacity;
    // Holds the memory, not the queue: a queue nobody uses any more can be collected.
    const host: LinkHost = {
      capacity,
      isLive(position) {
        const head = Atomics.load(words, HEAD);
        const tail = Atomics.load(words, TAIL) & POSITION;
        const offset = (position - head + modulus) % modulus;
        return offset < (tail - head + modulus) % modulus;
      },
      wakeAll() {
        takers.wakeAll();
        putters.wakeAll();
      },
      announceNeed() {
        Atomics.add(words, NEEDS, 1);
      },
    };
    const { id, registry } = this.#memory;
    const link = new ChannelLink(`graceful-threads:queue:${memoryId(registry.memory)}:${id}`, host, backlog);
    this.#link = link;
    this.#needsSeen = Atomics.load(words, NEEDS);
    links.register(this, link);
    return link;
  }

  /**
   * Answers other threads' requests for side-path values this thread holds; now and then reads
   * the channel anyway, so that values taken elsewhere do not pile up unread.
   */
  #serviceNeeds(): void {
    const link = this.#link;
    if (link === undefined) return;
    const needs = Atomics.load(this.#words, NEEDS);
    if (needs === this.#needsSeen && ++this.#sinceDrain < DRAIN_EVERY) return;
    this.#needsSeen = needs;
    this.#sinceDrain = 0;
    link.drain();
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    const description = this.#memory.describe();
    const backlog = this.#link?.backlog();
    return backlog === undefined || backlog.length === 0 ? description : ({ ...description, backlog } as never);
  }

  static {
    registerKind(KIND, (memory, description) => {
      reviving = { backlog: (description as { backlog?: [number, unknown][] }).backlog ?? [] };
      return new Queue({ capacity: memory.config[0]!, maxItemBytes: memory.config[1]! });
    });
  }
}

/** Each thread's link to a queue's channel is closed when the queue is collected there. */
const links = new FinalizationRegistry<ChannelLink>((link) => link.close());

function cellBytes(maxItemBytes: number): number {
  return CELL_HEADER_WORDS * 4 + Math.ceil(maxItemBytes / 8) * 8;
}

function validateOptions(options: QueueOptions): [number, number] {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgType('options', 'an object such as { capacity: 64 }', options);
  }
  const capacity = validateCount(options.capacity, 'options.capacity', 1, MAX_CAPACITY);
  const maxItemBytes =
    options.maxItemBytes === undefined
      ? DEFAULT_ITEM_BYTES
      : validateCount(options.maxItemBytes, 'options.maxItemBytes', 8, MAX_ITEM_BYTES);
  if (capacity * cellBytes(maxItemBytes) > MAX_RING_BYTES) {
    throw codedError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `A queue of ${capacity} items of up to ${maxItemBytes} bytes needs ${capacity * cellBytes(maxItemBytes)} bytes of shared memory, more than the ${MAX_RING_BYTES} it may take. Lower the capacity or maxItemBytes.`,
    );
  }
  return [capacity, maxItemBytes];
}

function closedError(): Error {
  return codedError(
    Error,
    'ERR_QUEUE_CLOSED',
    'The queue is closed: nothing more can be put, and everything put has been taken. Stop producing (or consuming) here.',
  );
}

function isClosedError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_QUEUE_CLOSED';
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
