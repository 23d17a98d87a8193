/**
 * An event flag between threads (Python's `threading.Event`), whose waits are interruption
 * points.
 */
import { validateTimeout } from './arguments.js';
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

// Words: the flag (0 clear, 1 set), and how many times it was set: a wait that sees the count
// move ends, so `set(); clear();` still releases every thread that was waiting (as in Python).
const FLAG = 0;
const SETS = 1;
const STATE_WORDS = 2;
const KIND = 'Event';

/**
 * A flag threads wait for: `set()` wakes every waiter, and waits return at once until it is
 * `clear()`ed. Waiting is an interruption point. Works in the main thread and in every thread;
 * pass it to a thread in `args` and both see the same flag.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * new Thread(new URL('./loader.js', import.meta.url), { args: [ready] }).start();
 * await ready.waitAsync(); // the loader calls ready.set()
 * ```
 */
export class Event implements SharedObject {
  readonly #memory: SharedMemory;
  readonly #words: Int32Array;
  readonly #queue: WaitQueue;

  constructor() {
    this.#memory = memoryFor(this, KIND, () => SharedMemory.allocate(KIND, STATE_WORDS, 1));
    this.#words = this.#memory.words;
    this.#queue = this.#memory.queue(STATE_WORDS, 0);
  }

  /**
   * Sets the flag and wakes every thread waiting for it (also when it is cleared again before
   * they run).
   *
   * @example
   * ```ts
   * done.set();
   * ```
   */
  set(): void {
    Atomics.store(this.#words, FLAG, 1);
    Atomics.add(this.#words, SETS, 1);
    this.#queue.wakeAll();
  }

  /**
   * Clears the flag: later waits block until the next `set()`.
   *
   * @example
   * ```ts
   * tick.clear();
   * ```
   */
  clear(): void {
    Atomics.store(this.#words, FLAG, 0);
  }

  /**
   * Whether the flag is set.
   *
   * @example
   * ```ts
   * if (stopRequested.isSet()) return;
   * ```
   */
  isSet(): boolean {
    return Atomics.load(this.#words, FLAG) === 1;
  }

  /**
   * Blocks until the flag is set (true at once if it is), or `timeoutMs` passes (false). An
   * interruption point: throws {@link ThreadInterruptedError} when the thread is interrupted.
   *
   * @example
   * ```ts
   * if (!ready.wait(10_000)) throw new Error('the loader did not start');
   * ```
   */
  wait(timeoutMs?: number): boolean {
    // Thrown here, not in the wait: one frame less to unwind (see parkUntil).
    const outcome = parkUntil(this.#queue, this.#setSince(), validateTimeout(timeoutMs));
    if (outcome === true || outcome === false) return outcome;
    throw outcome;
  }

  /**
   * The awaitable {@link wait}: does not block the event loop, keeps the thread alive while
   * pending, rejects with the {@link ThreadInterruptedError} on an interrupt.
   *
   * @example
   * ```ts
   * await ready.waitAsync();
   * ```
   */
  waitAsync(timeoutMs?: number): Promise<boolean> {
    try {
      return waitUntilAsync(this.#queue, this.#setSince(), validateTimeout(timeoutMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** True once the flag is set, or was set at any moment since this call. */
  #setSince(): () => boolean {
    const words = this.#words;
    const sets = Atomics.load(words, SETS);
    return () => Atomics.load(words, FLAG) === 1 || Atomics.load(words, SETS) !== sets;
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    return this.#memory.describe();
  }

  static {
    registerKind(KIND, () => new Event());
  }
}
