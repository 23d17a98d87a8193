/**
 * A bounded multi-producer, multi-consumer FIFO between threads, through shared memory, whose
 * waits are interruption points.
 *
 * The items live in a ring of `capacity` slots (Dmitry Vyukov's bounded MPMC queue; a number is
 * stored in its slot, four slots to a cache line, other items' bytes in a data cell of the slot's
 * own, see queue-item.ts): each slot has a sequence word saying whose turn it is, a putter claims a position with one
 * compare-and-swap on the tail and publishes the cell by storing its sequence, a taker claims one
 * on the head the same way. Copies into and out of cells run in parallel, nothing is held across
 * a wait, and a position is claimed only when the call can complete: an interrupt or a timeout
 * never loses an item or leaves a hole.
 *
 * Positions count modulo `capacity x floor(2^30 / capacity)`; bit 30 of the tail word is the closed
 * flag, so a put and `close()` are ordered by that one word.
 *
 * Waking: a blocking call first tries again for a few microseconds (the other side is usually
 * running), then parks in the takers' or the putters' wait queue, having marked the sequence
 * word of the cell it waits for (bit 30: a taker waits for it to be published, bit 31: a putter
 * waits for it to be freed; see `#mark`). The put that publishes a cell and the take that frees
 * it write its sequence with `Atomics.exchange`, which returns the marks: they wake whom the
 * word says waits, and a steady stream notifies nobody with no other shared word read (three
 * Atomics calls a put or take: load the sequence, claim, exchange).
 */

import { codedError, invalidArgType } from '../coded-errors.js';
import { memoryId } from '../control-block.js';
import { interruptedError, interruptionRequested } from '../current.js';
import { assertCanBlock } from '../runtime/node.js';
import { state } from '../thread-state.js';
import { validateCount, validateTimeout } from './arguments.js';
import { parkUntil, waitUntilAsync } from './park.js';
import { ChannelLink, type LinkHost } from './queue-channel.js';
import {
  Cells,
  finishTake,
  newPayload,
  newTaken,
  PACKED,
  type Payload,
  prepareItem,
  SIDE,
  SLOT_WORDS,
  type Taken,
} from './queue-item.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import type { WaitQueue } from './wait-queue.js';

// Words. Head and tail on cache lines of their own: putters and takers write them.
const TAIL = 0;
const HEAD = 16;
/** Bumped by each thread asking for a side-path value. */
const NEEDS = 32;
/**
 * 1 once closed, beside the tail's flag: a taker finding the queue empty reads this read-mostly
 * word, not the tail's line, which every put writes.
 */
const CLOSED_FLAG = 33;
/** Bumped after each side-path value posted on the channel: nothing posted, nothing to read. */
const POSTS = 34;
// Word 35 is free (it counted the parked waits, which each op read; the cells' marks replaced it).
/** The takers' wait queue follows (bench/queue.js and the tests read its waiter count, word 48). */
const STATE_WORDS = 48;
const TAKERS = 0;
const PUTTERS = 1;
const KIND = 'Queue';

const CLOSED = 1 << 30;
const POSITION = CLOSED - 1;
/** Marks in a cell's sequence word: a taker waits for it to be published, a putter for it to be freed. */
const TAKER_WAITS = 1 << 30;
const PUTTER_WAITS = 1 << 31;

const LINE = 64;

const MAX_CAPACITY = 2 ** 20;
const MAX_ITEM_BYTES = 2 ** 28;
const MAX_RING_BYTES = 2 ** 31 - 2 ** 16;
/** The default item limit: room for records and short texts without much memory per cell. */
const DEFAULT_ITEM_BYTES = 4096;

/**
 * Attempts before a blocking call parks: a put or take a few microseconds away (the other side
 * running on another core) costs less than parking and being woken.
 */
const SPIN_ROUNDS = 24;

let sink = 0;
/**
 * Busy-waits a little longer each round (about 8 ns x 2^round, at most 0.5 us) without touching
 * shared memory: a spinning taker that read the cell the putter is writing on every turn would
 * slow the putter down.
 */
function pause(round: number): void {
  let x = sink;
  for (let i = 8 << Math.min(round, 6); i > 0; i--) x = (Math.imul(x, 31) + i) | 0;
  sink = x;
}

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

let reviving: { backlog: readonly (readonly [number, unknown])[] } | undefined;

/**
 * A bounded FIFO of structured-cloneable values between threads: any number of threads put and
 * take. `put` waits while it is full, `take` while it is empty; both waits are interruption
 * points that never lose an item (an interrupted taker has taken nothing, an interrupted putter
 * has put nothing). Items travel through shared memory, so a consumer busy in synchronous code
 * can take them; an item holding a shared object (a `Lock`, another `Queue`...) arrives as a
 * working instance. `close()` ends it: puts throw `ERR_QUEUE_CLOSED`, takers get what is left,
 * then `ERR_QUEUE_CLOSED`, and both iterations end.
 *
 * Works in the main thread and in every thread; pass it to a thread in `args` (or as an item).
 * Each thread that has it also joins a broadcast channel named after it, which carries the items
 * bytes cannot hold (those with shared objects, `SharedArrayBuffer`s, or objects Node clones
 * only by message) and costs about 10 KiB per thread; such items are not counted against
 * `maxItemBytes`. A thread terminated (not interrupted) in the middle of a put leaves the
 * position it claimed unfinished, and takers stop there, as a lock it held stays held.
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
  readonly #items: Cells;
  readonly #takers: WaitQueue;
  readonly #putters: WaitQueue;
  readonly #capacity: number;
  /**
   * Cells in the ring: the capacity, but at least 2 (with 1, "published for position p" and
   * "free for p + 1" would be the same sequence number); with 2 for a capacity of 1, a put also
   * checks the count.
   */
  readonly #slots: number;
  readonly #inverse: number;
  readonly #maxItemBytes: number;
  /** The number of positions: a multiple of the capacity below 2^30. */
  readonly #modulus: number;
  /** Word of the first slot (see queue-item.ts). */
  readonly #slotBase: number;
  /** `slots - 1` when the slots are a power of two (the position modulo them is a mask), else -1. */
  readonly #mask: number;
  readonly #link: ChannelLink;
  #needsSeen = 0;
  /** The count of posts at this thread's last read of its channel. */
  #postsSeen = 0;
  /**
   * Where this thread expects the tail and the head to be: what its last successful claim left
   * them at. An attempt tries its compare-and-swap there instead of loading the word first (one
   * `Atomics.load` less per item, about 6 ns); a wrong guess fails the swap, which returns the
   * word as it is, or meets a cell whose turn it is not, and the word is loaded then.
   */
  #tailGuess = 0;
  #headGuess = 0;
  /** Operations since this thread's link last read its channel. */
  #sinceDrain = 0;
  /** The sync calls' payload and result, reused (they never overlap in a thread). */
  readonly #payload = newPayload();
  readonly #taken = newTaken();
  #putOutcome = WAIT;
  /** A blocking call's attempts once it may park: they mark the cell they wait for. */
  readonly #putAttempt = (): boolean => {
    this.#putOutcome = this.#offer(this.#payload, true);
    return this.#putOutcome !== WAIT;
  };
  readonly #takeAttempt = (): boolean => this.#poll(this.#taken, true) !== WAIT;

  /**
   * @param options `capacity` (required) and `maxItemBytes` (default 4096): the ring takes
   *   `capacity x (16 + maxItemBytes)` bytes of shared memory, `maxItemBytes` rounded up to
   *   64-byte lines.
   */
  constructor(options: QueueOptions) {
    let fresh = false;
    this.#memory = memoryFor(this, KIND, () => {
      const [capacity, maxItemBytes] = validateOptions(options);
      fresh = true;
      const ring = ringBytes(Math.max(2, capacity), maxItemBytes);
      return SharedMemory.allocate(KIND, STATE_WORDS, 2, [capacity, maxItemBytes], ring + LINE);
    });
    const memory = this.#memory;
    this.#capacity = memory.config[0]!;
    this.#maxItemBytes = memory.config[1]!;
    this.#slots = Math.max(2, this.#capacity);
    this.#inverse = 1 / this.#slots;
    this.#modulus = this.#slots * Math.floor(2 ** 30 / this.#slots);
    this.#words = memory.words;
    this.#takers = memory.queue(STATE_WORDS, TAKERS);
    this.#putters = memory.queue(STATE_WORDS, PUTTERS);
    this.#slotBase = (Math.ceil(memory.extraOffset(STATE_WORDS, 2) / LINE) * LINE) >>> 2;
    const dataBase = this.#slotBase + (slotsBytes(this.#slots) >>> 2);
    this.#items = new Cells(memory.buffer, this.#slotBase, dataBase, dataBytes(this.#maxItemBytes) >>> 2);
    this.#mask = (this.#slots & (this.#slots - 1)) === 0 ? this.#slots - 1 : -1;
    this.#tailGuess = Atomics.load(this.#words, TAIL) & POSITION;
    this.#headGuess = Atomics.load(this.#words, HEAD);
    if (fresh) {
      // Cell i is free for the putter at position i.
      for (let i = 0; i < this.#slots; i++) this.#words[this.#slotBase + i * SLOT_WORDS] = i;
    }
    // Every thread that has the queue joins its channel at once: side-path values then reach
    // each of them when put, and one that ends does not take the only copy with it.
    const backlog = reviving?.backlog;
    reviving = undefined;
    this.#link = this.#joinChannel(backlog);
  }

  /**
   * How many items it holds at most.
   *
   * @example
   * ```ts
   * const spare = queue.capacity - queue.size;
   * ```
   */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * The largest item it takes, in bytes of its encoding (see {@link QueueOptions.maxItemBytes}).
   *
   * @example
   * ```ts
   * if (text.length * 2 > queue.maxItemBytes) text = text.slice(0, queue.maxItemBytes / 2);
   * ```
   */
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

  /**
   * True once {@link close} was called (items may be left to take).
   *
   * @example
   * ```ts
   * if (!queue.closed) queue.put(item);
   * ```
   */
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
    const timeout = timeoutMs === undefined ? Number.POSITIVE_INFINITY : validateTimeout(timeoutMs);
    // Even where it would not wait: a page's main thread refuses every wait that may block.
    if (timeout > 0) assertCanBlock();
    const payload = this.#payload;
    prepareItem(item, payload, false, this.#maxItemBytes);
    if (enteredInterrupted()) throw interruptedError();
    let outcome = this.#offer(payload, false);
    for (let round = timeout > 0 ? 0 : SPIN_ROUNDS; outcome === WAIT && round < SPIN_ROUNDS; round++) {
      pause(round);
      outcome = this.#offer(payload, false);
    }
    if (outcome === WAIT) {
      this.#putOutcome = WAIT;
      // Thrown here, not in the wait: one frame less to unwind (see parkUntil).
      const parked = parkUntil(this.#putters, this.#putAttempt, timeout);
      if (parked !== true) {
        if (parked === false) return false;
        throw parked;
      }
      outcome = this.#putOutcome;
    }
    if (outcome === SHUT) throw closedError('put');
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
    prepareItem(item, this.#payload, false, this.#maxItemBytes);
    const outcome = this.#offer(this.#payload, false);
    if (outcome === SHUT) throw closedError('put');
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
      const payload = newPayload();
      prepareItem(item, payload, true, this.#maxItemBytes);
      let outcome = WAIT;
      const attempt = (): boolean => {
        outcome = this.#offer(payload, true);
        return outcome !== WAIT;
      };
      return waitUntilAsync(this.#putters, attempt, timeout).then((put) => {
        if (put && outcome === SHUT) throw closedError('put');
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
    const timeout = timeoutMs === undefined ? Number.POSITIVE_INFINITY : validateTimeout(timeoutMs);
    if (timeout > 0) assertCanBlock();
    const taken = this.#taken;
    if (enteredInterrupted()) throw interruptedError();
    let outcome = this.#poll(taken, false);
    for (let round = timeout > 0 ? 0 : SPIN_ROUNDS; outcome === WAIT && round < SPIN_ROUNDS; round++) {
      pause(round);
      outcome = this.#poll(taken, false);
    }
    if (outcome === WAIT) {
      // Thrown here, not in the wait: one frame less to unwind (see parkUntil).
      const parked = parkUntil(this.#takers, this.#takeAttempt, timeout);
      if (parked !== true) {
        if (parked === false) return undefined;
        throw parked;
      }
    }
    return this.#finish(taken);
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
    if (this.#poll(taken, false) === WAIT) return undefined;
    return this.#finish(taken);
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
      const taken = newTaken();
      return waitUntilAsync(this.#takers, () => this.#poll(taken, true) !== WAIT, timeout).then((done) =>
        done ? this.#finish(taken) : undefined,
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
    Atomics.store(this.#words, CLOSED_FLAG, 1);
    this.#takers.wakeAll();
    this.#putters.wakeAll();
  }

  /**
   * Takes items until the queue is closed and drained. Each step is a {@link take} (an
   * interruption point: an interrupt ends the loop with {@link ThreadInterruptedError}).
   *
   * @example
   * ```ts
   * for (const job of jobs) handle(job);
   * // here: jobs was closed and every job put has been taken
   * ```
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

  /**
   * Takes items until the queue is closed and drained, each step a {@link takeAsync}.
   *
   * @example
   * ```ts
   * for await (const job of jobs) await handle(job);
   * ```
   */
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

  /**
   * One attempt to put: DONE, WAIT (full), or SHUT (closed). With `mark` (a call that parks on
   * WAIT), the cell it waits for is marked first, or it looks again if that cell changed.
   */
  #offer(payload: Payload, mark: boolean): number {
    const words = this.#words;
    let tail = this.#tailGuess;
    for (;;) {
      if ((tail & CLOSED) !== 0) return SHUT;
      const cell = this.#cellOf(tail);
      const word = Atomics.load(words, cell);
      const seq = word & POSITION;
      const turn = seq === tail ? 0 : this.#wrap(seq - tail);
      if (turn === 0) {
        if (this.#slots !== this.#capacity) {
          const head = Atomics.load(words, HEAD);
          if (this.#wrap(tail - head) >= this.#capacity) {
            const now = Atomics.load(words, TAIL);
            if (now !== tail) {
              tail = now;
              continue;
            }
            if (mark && !this.#markUntaken(head)) continue;
            this.#serviceNeeds();
            return WAIT;
          }
        }
        const next = tail + 1 === this.#modulus ? 0 : tail + 1;
        const prior = Atomics.compareExchange(words, TAIL, tail, next);
        if (prior !== tail) {
          tail = prior;
          continue;
        }
        this.#tailGuess = next;
        this.#write(cell, tail, payload);
        // Publishes, and learns whether a taker marked the cell meanwhile.
        const marks = Atomics.exchange(words, cell, next);
        if (marks !== tail) this.#wakeMarked(marks);
        if (++this.#sinceDrain >= DRAIN_EVERY) this.#serviceNeeds();
        return DONE;
      }
      // Behind: the cell still holds the item of the previous lap (full), unless the tail moved.
      const now = Atomics.load(words, TAIL);
      if (turn < 0 && now === tail) {
        if (mark && !this.#mark(cell, word, PUTTER_WAITS)) continue;
        this.#serviceNeeds();
        return WAIT;
      }
      tail = now;
    }
  }

  /**
   * Marks the cell whose sequence word was `word` with `bit` (what waits for it to change), so
   * that the put or take that changes it wakes the waiters: true when marked (or already),
   * false when the word has changed since it was read. A waiter enlists before it marks, so the
   * exchange that changes the word after the mark sees the waiter in the wait queue; one that
   * changed it before makes the mark fail, and the waiter looks again.
   */
  #mark(cell: number, word: number, bit: number): boolean {
    if ((word & bit) !== 0) return true;
    return Atomics.compareExchange(this.#words, cell, word, word | bit) === word;
  }

  /**
   * A capacity of 1 (two cells): a put waits for the item at `head` to be taken, so it marks that
   * item's cell, while it is not yet freed (claimed by its putter or published); false when it
   * has been freed since (the head has moved: look again).
   */
  #markUntaken(head: number): boolean {
    const cell = this.#cellOf(head);
    const word = Atomics.load(this.#words, cell);
    const seq = word & POSITION;
    if (seq !== head && seq !== this.#plus(head, 1)) return false;
    return this.#mark(cell, word, PUTTER_WAITS);
  }

  /** Wakes whom the marks a put or take found on the cell it wrote say wait for it. */
  #wakeMarked(marks: number): void {
    if ((marks & TAKER_WAITS) !== 0) this.#takers.wakeAll();
    if ((marks & PUTTER_WAITS) !== 0) this.#putters.wakeAll();
  }

  #write(cell: number, position: number, payload: Payload): void {
    if (payload.tag === SIDE) {
      this.#words[cell + 1] = SIDE;
      this.#link.post(position, payload.side);
    } else {
      this.#items.write(cell, payload);
    }
  }

  /**
   * One attempt to take: DONE (the item in `taken`), WAIT (empty), or SHUT (closed and drained).
   * `mark` as for {@link #offer}.
   */
  #poll(taken: Taken, mark: boolean): number {
    const words = this.#words;
    let head = this.#headGuess;
    for (;;) {
      const cell = this.#cellOf(head);
      const next = head + 1 === this.#modulus ? 0 : head + 1;
      const word = Atomics.load(words, cell);
      const seq = word & POSITION;
      const turn = seq === next ? 0 : this.#wrap(seq - next);
      if (turn === 0) {
        // A side-path item is claimed only once its value is here (the channel wakes the takers
        // when a value they asked for is posted). A thread that holds it may take it first: that
        // take's exchange must wake this one, which then waits for the next cell, so it marks.
        if (words[cell + 1] === SIDE && !this.#link.has(head)) {
          const now = Atomics.load(words, HEAD);
          if (now !== head) {
            head = now;
            continue;
          }
          if (mark && !this.#mark(cell, word, TAKER_WAITS)) continue;
          return WAIT;
        }
        const prior = Atomics.compareExchange(words, HEAD, head, next);
        if (prior !== head) {
          head = prior;
          continue;
        }
        this.#headGuess = next;
        this.#read(cell, head, taken);
        // Frees the cell for the next lap, and learns whether a putter marked it meanwhile.
        const marks = Atomics.exchange(words, cell, this.#plus(head, this.#slots));
        if (marks !== next) this.#wakeMarked(marks);
        if (++this.#sinceDrain >= DRAIN_EVERY) this.#serviceNeeds();
        taken.outcome = DONE;
        return DONE;
      }
      // Not its turn at the guessed head: unless the head is there, look where it is.
      const now = Atomics.load(words, HEAD);
      if (now !== head) {
        head = now;
        continue;
      }
      if (turn < 0) {
        // Empty, or claimed by a putter that has not published yet (it wakes the takers when it
        // does, if marked). Closed and empty ends it.
        if (Atomics.load(words, CLOSED_FLAG) !== 0 && (Atomics.load(words, TAIL) & POSITION) === head) {
          taken.outcome = SHUT;
          return SHUT;
        }
        if (mark && !this.#mark(cell, word, TAKER_WAITS)) continue;
        this.#serviceNeeds();
        return WAIT;
      }
    }
  }

  /** The item a successful attempt took; or the closed error. */
  #finish(taken: Taken): T {
    if (taken.outcome === SHUT) throw closedError('take');
    return finishTake(taken) as T;
  }

  /** Reads the claimed cell (a side-path item: the value this thread holds). */
  #read(cell: number, position: number, taken: Taken): void {
    if (this.#words[cell + 1] === SIDE) {
      taken.value = this.#link.take(position);
      taken.form = PACKED;
    } else {
      this.#items.read(cell, taken);
    }
  }

  /** The word index of the slot of `position`. */
  #cellOf(position: number): number {
    // A power of two of slots divides 2^30, the modulus: the low bits are the index.
    if (this.#mask >= 0) return this.#slotBase + (position & this.#mask) * SLOT_WORDS;
    // position % slots without an integer division: the float quotient is off by one at most.
    const slots = this.#slots;
    let index = position - Math.floor(position * this.#inverse) * slots;
    if (index >= slots) index -= slots;
    else if (index < 0) index += slots;
    return this.#slotBase + index * SLOT_WORDS;
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
      announcePost() {
        Atomics.add(words, POSTS, 1);
      },
    };
    const { id, registry } = this.#memory;
    const link = new ChannelLink(`graceful-threads:queue:${memoryId(registry.memory)}:${id}`, host, backlog);
    this.#needsSeen = Atomics.load(words, NEEDS);
    links.register(this, link);
    return link;
  }

  /**
   * Answers other threads' requests for side-path values this thread holds: each time an
   * attempt finds it must wait (a thread blocked in the queue is woken by a request), and every
   * {@link DRAIN_EVERY} items if a value was posted since, so that values taken elsewhere do
   * not pile up unread (a stream of numbers and plain data never reads the channel).
   */
  #serviceNeeds(): void {
    const words = this.#words;
    const needs = Atomics.load(words, NEEDS);
    if (needs === this.#needsSeen) {
      if (this.#sinceDrain < DRAIN_EVERY) return;
      this.#sinceDrain = 0;
      if (Atomics.load(words, POSTS) === this.#postsSeen) return;
    }
    this.#needsSeen = needs;
    this.#sinceDrain = 0;
    // Read before the messages: a value posted after this read is read next time.
    this.#postsSeen = Atomics.load(words, POSTS);
    this.#link.drain();
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    const description = this.#memory.describe();
    const backlog = this.#link.backlog();
    return backlog.length === 0 ? description : ({ ...description, backlog } as SharedDescription);
  }

  static {
    registerKind(KIND, (memory, description) => {
      reviving = { backlog: (description as { backlog?: [number, unknown][] }).backlog ?? [] };
      return new Queue({ capacity: memory.config[0]!, maxItemBytes: memory.config[1]! });
    });
  }
}

/**
 * The entry check of `put` and `take`, before any wait: the flag read as `interruptionRequested()`
 * reads it (plainly on V8, where `Atomics.load` costs 15-20 ns more; a wait reads it with
 * `Atomics.load` after each wake-up).
 */
function enteredInterrupted(): boolean {
  return interruptionRequested() && state.criticalDepth === 0;
}

/** Each thread's link to a queue's channel is closed when the queue is collected there. */
const links = new FinalizationRegistry<ChannelLink>((link) => link.close());

/** The slots, four to a line, in whole lines. */
function slotsBytes(slots: number): number {
  return Math.ceil((slots * SLOT_WORDS * 4) / LINE) * LINE;
}

/** Data cells take whole cache lines: a putter writing one and a taker reading the one before never share a line. */
function dataBytes(maxItemBytes: number): number {
  return Math.ceil(maxItemBytes / LINE) * LINE;
}

function ringBytes(slots: number, maxItemBytes: number): number {
  return slotsBytes(slots) + slots * dataBytes(maxItemBytes);
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
  const bytes = ringBytes(Math.max(2, capacity), maxItemBytes);
  if (bytes > MAX_RING_BYTES) {
    throw codedError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `A queue of ${capacity} items of up to ${maxItemBytes} bytes needs ${bytes} bytes of shared memory, more than the ${MAX_RING_BYTES} it may take. Lower the capacity or maxItemBytes.`,
    );
  }
  return [capacity, maxItemBytes];
}

function closedError(call: 'put' | 'take'): Error {
  return codedError(
    Error,
    'ERR_QUEUE_CLOSED',
    call === 'put'
      ? 'The queue is closed: nothing more can be put. Stop producing (the takers finish what is queued).'
      : 'The queue is closed and everything put into it has been taken. Stop consuming.',
  );
}

function isClosedError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_QUEUE_CLOSED';
}
