/**
 * A mutual-exclusion lock between threads, whose waits are interruption points.
 */

import { codedError } from '../coded-errors.js';
import { interruptionRequested } from '../current.js';
import { assertCanBlock } from '../runtime/node.js';
import { state } from '../thread-state.js';
import { validateTimeout } from './arguments.js';
import { parkUntil, waitUntil, waitUntilAsync } from './park.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import type { WaitQueue } from './wait-queue.js';

// Words: the holder (0: free, else its Node thread id + 1; ids are never reused in a process).
const HOLDER = 0;
const STATE_WORDS = 1;
const KIND = 'Lock';

/** The calling thread as a lock holder. */
const self = state.threadId + 1;

/**
 * A lock that threads take in turn: one holder at a time, held by a thread (not by an async
 * function), not reentrant. Waiting for it is an interruption point: an interrupt wakes the
 * waiting thread at once and `acquire()` throws {@link ThreadInterruptedError} without the
 * lock. Works in the main thread and in every thread; pass it to a thread in `args` and both
 * use the same lock.
 *
 * Waiters are woken together when it is released and race for it (no fairness).
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * // in each thread, given { lock, counter } in args:
 * {
 *   using _ = lock.hold();
 *   counter[0]++;
 * }
 * ```
 */
export class Lock implements SharedObject {
  readonly #memory: SharedMemory;
  readonly #words: Int32Array;
  readonly #queue: WaitQueue;
  /** Takes the lock if it is free: made once, as every wait calls it. */
  readonly #attempt: () => boolean;

  constructor() {
    this.#memory = memoryFor(this, KIND, () => SharedMemory.allocate(KIND, STATE_WORDS, 1));
    const words = this.#memory.words;
    this.#words = words;
    this.#queue = this.#memory.queue(STATE_WORDS, 0);
    this.#attempt = () => Atomics.compareExchange(words, HOLDER, 0, self) === 0;
  }

  /** True while some thread holds the lock. */
  get locked(): boolean {
    return Atomics.load(this.#words, HOLDER) !== 0;
  }

  /**
   * Takes the lock if it is free; never waits. False when it is held, also by the calling thread.
   *
   * @example
   * ```ts
   * if (lock.tryAcquire()) {
   *   try { flush(); } finally { lock.release(); }
   * }
   * ```
   */
  tryAcquire(): boolean {
    return this.#attempt();
  }

  /**
   * Takes the lock, waiting up to `timeoutMs` (default: no limit) for it. An interruption point.
   *
   * @returns true once held; false when the timeout passed first.
   * @throws ThreadInterruptedError when the thread is interrupted (before or while waiting);
   *   the lock is not taken. `Error` with code `ERR_LOCK_ALREADY_HELD` when the calling thread
   *   holds it already: it could never be released while the thread blocks.
   * @example
   * ```ts
   * if (!lock.acquire(5_000)) throw new Error('the index is busy');
   * try { update(); } finally { lock.release(); }
   * ```
   */
  acquire(timeoutMs?: number): boolean {
    const timeout = timeoutMs === undefined ? Number.POSITIVE_INFINITY : validateTimeout(timeoutMs);
    // Even where it would not wait: a page's main thread refuses every wait that may block.
    if (timeout > 0) assertCanBlock();
    // The uncontended path: a plain read of the flag (an interrupt on entry still throws, below).
    if (!interruptionRequested() && this.#attempt()) return true;
    if (Atomics.load(this.#words, HOLDER) === self) throw alreadyHeld();
    // Thrown here, not in the wait: one frame less to unwind (see parkUntil).
    const outcome = parkUntil(this.#queue, this.#attempt, timeout);
    if (outcome === true || outcome === false) return outcome;
    throw outcome;
  }

  /**
   * The awaitable {@link acquire}: does not block the event loop, and keeps the thread alive
   * while it waits. Two async functions of one thread take it in turn, as two threads do.
   *
   * @example
   * ```ts
   * await lock.acquireAsync();
   * try { await save(); } finally { lock.release(); }
   * ```
   */
  acquireAsync(timeoutMs?: number): Promise<boolean> {
    try {
      return waitUntilAsync(this.#queue, this.#attempt, validateTimeout(timeoutMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Releases the lock and wakes the threads waiting for it.
   *
   * @throws Error with code `ERR_LOCK_NOT_HELD` when the calling thread does not hold it.
   */
  release(): void {
    if (Atomics.compareExchange(this.#words, HOLDER, self, 0) !== self) {
      throw codedError(
        Error,
        'ERR_LOCK_NOT_HELD',
        'Cannot release the lock: the calling thread does not hold it. Release a lock in the thread that acquired it, once per acquire.',
      );
    }
    this.#queue.wakeAll();
  }

  /**
   * Acquires the lock (waiting without limit) and returns a handle whose disposal releases it:
   * `using _ = lock.hold();` holds it to the end of the block.
   *
   * @example
   * ```ts
   * {
   *   using _ = lock.hold();
   *   counter[0]++;
   * } // released here, also on a throw
   * ```
   */
  hold(): Disposable {
    this.acquire();
    return this.#holding();
  }

  /**
   * The awaitable {@link hold}: `using _ = await lock.holdAsync();`.
   *
   * @example
   * ```ts
   * {
   *   using _ = await lock.holdAsync();
   *   await save();
   * }
   * ```
   */
  async holdAsync(): Promise<Disposable> {
    await this.acquireAsync();
    return this.#holding();
  }

  /** @internal True when the calling thread holds the lock. */
  heldByCurrentThread(): boolean {
    return Atomics.load(this.#words, HOLDER) === self;
  }

  /** @internal Takes the lock ignoring interrupts: a condition's wait gives it back this way. */
  reacquire(): void {
    // this.#attempt(), inline: an interrupted condition wait runs this just woken.
    if (Atomics.compareExchange(this.#words, HOLDER, 0, self) !== 0) {
      waitUntil(this.#queue, this.#attempt, Number.POSITIVE_INFINITY, false);
    }
  }

  /** @internal The awaitable {@link reacquire}. */
  async reacquireAsync(): Promise<void> {
    await waitUntilAsync(this.#queue, this.#attempt, Number.POSITIVE_INFINITY, false);
  }

  #holding(): Disposable {
    let held = true;
    return {
      [Symbol.dispose]: () => {
        if (!held) return;
        held = false;
        this.release();
      },
    };
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    return this.#memory.describe();
  }

  static {
    registerKind(KIND, () => new Lock());
  }
}

function alreadyHeld(): Error {
  return codedError(
    Error,
    'ERR_LOCK_ALREADY_HELD',
    'The calling thread already holds this lock, and it is not reentrant: waiting for it would never end. Release it first, or track that it is held.',
  );
}
