/**
 * A counting semaphore between threads, whose waits are interruption points.
 */
import { codedError, invalidArgType } from '../coded-errors.js';
import { validateCount, validateTimeout } from './arguments.js';
import { parkUntil, waitUntilAsync } from './park.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import type { WaitQueue } from './wait-queue.js';

// Words: the permits available, and the bound (-1: none).
const PERMITS = 0;
const MAX = 1;
const STATE_WORDS = 2;
const KIND = 'Semaphore';
const LIMIT = 2 ** 31 - 1;

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** The most permits it may hold: a `release()` past it throws `ERR_SEMAPHORE_OVERFLOW`. */
  readonly max?: number;
}

let creating: { permits: number; max: number } | undefined;

/**
 * A set of permits threads take and give back: `acquire(n)` waits until `n` are available and
 * takes them all at once (a pending `acquire` holds none while it waits). Waiting is an
 * interruption point. Works in the main thread and in every thread; pass it in `args`.
 *
 * @example
 * ```ts
 * const connections = new Semaphore(4); // at most 4 at once, across all threads
 * connections.acquire();
 * try { await query(); } finally { connections.release(); }
 * ```
 */
export class Semaphore implements SharedObject {
  readonly #memory: SharedMemory;
  readonly #words: Int32Array;
  readonly #queue: WaitQueue;

  /**
   * @param permits the permits available at first (an integer >= 0).
   * @param options `max` bounds it (releasing past `max` throws).
   */
  constructor(permits: number, options?: SemaphoreOptions) {
    this.#memory = memoryFor(this, KIND, () => {
      validateCount(permits, 'permits', 0);
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw invalidArgType('options', 'an object', options);
      }
      const max = options?.max === undefined ? -1 : validateCount(options.max, 'options.max', Math.max(permits, 1));
      creating = { permits, max };
      return SharedMemory.allocate(KIND, STATE_WORDS, 1);
    });
    this.#words = this.#memory.words;
    this.#queue = this.#memory.queue(STATE_WORDS, 0);
    if (creating !== undefined) {
      this.#words[PERMITS] = creating.permits;
      this.#words[MAX] = creating.max;
      creating = undefined;
    }
  }

  /**
   * The permits available now.
   *
   * @example
   * ```ts
   * console.log(`${pool.available} free`);
   * ```
   */
  get available(): number {
    return Atomics.load(this.#words, PERMITS);
  }

  /**
   * Takes `n` permits if that many are available; never waits.
   *
   * @example
   * ```ts
   * if (!slots.tryAcquire()) return respondBusy();
   * ```
   */
  tryAcquire(n = 1): boolean {
    return this.#take(this.#validateN(n));
  }

  /**
   * Takes `n` permits (default 1), waiting up to `timeoutMs` until that many are available. An
   * interruption point: throws {@link ThreadInterruptedError} on an interrupt, holding none.
   *
   * @returns true once taken; false when the timeout passed first.
   * @example
   * ```ts
   * if (sem.acquire(2, 1_000)) {
   *   try { work(); } finally { sem.release(2); }
   * }
   * ```
   */
  acquire(n = 1, timeoutMs?: number): boolean {
    const count = this.#validateN(n);
    // Thrown here, not in the wait: one frame less to unwind (see parkUntil).
    const outcome = parkUntil(this.#queue, () => this.#take(count), validateTimeout(timeoutMs));
    if (outcome === true || outcome === false) return outcome;
    throw outcome;
  }

  /**
   * The awaitable {@link acquire}.
   *
   * @example
   * ```ts
   * await sem.acquireAsync();
   * ```
   */
  acquireAsync(n = 1, timeoutMs?: number): Promise<boolean> {
    try {
      const count = this.#validateN(n);
      return waitUntilAsync(this.#queue, () => this.#take(count), validateTimeout(timeoutMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Gives back `n` permits (default 1) and wakes the threads waiting for permits.
   *
   * @throws RangeError with code `ERR_SEMAPHORE_OVERFLOW` when that would hold more than `max`
   *   (nothing is released).
   * @example
   * ```ts
   * sem.release();
   * ```
   */
  release(n = 1): void {
    const count = validateCount(n, 'n', 0);
    const words = this.#words;
    const max = Atomics.load(words, MAX);
    const bound = max === -1 ? LIMIT : max;
    for (let seen = Atomics.load(words, PERMITS); ; ) {
      if (count > bound - seen) {
        throw codedError(
          RangeError,
          'ERR_SEMAPHORE_OVERFLOW',
          `Cannot release ${count} permit(s): the semaphore holds ${seen} of at most ${bound}. Release only permits that were acquired.`,
        );
      }
      const prior = Atomics.compareExchange(words, PERMITS, seen, seen + count);
      if (prior === seen) break;
      seen = prior;
    }
    if (count > 0) this.#queue.wakeAll();
  }

  #validateN(n: unknown): number {
    const max = Atomics.load(this.#words, MAX);
    return validateCount(n, 'n', 0, max === -1 ? LIMIT : max);
  }

  #take(n: number): boolean {
    const words = this.#words;
    for (let seen = Atomics.load(words, PERMITS); seen >= n; ) {
      const prior = Atomics.compareExchange(words, PERMITS, seen, seen - n);
      if (prior === seen) return true;
      seen = prior;
    }
    return false;
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    return this.#memory.describe();
  }

  static {
    registerKind(KIND, () => new Semaphore(0));
  }
}
