/**
 * A condition variable between threads (Java's `Condition`, Python's `threading.Condition`),
 * whose waits are interruption points.
 *
 * Its state is one 64-bit word: how many waiters wait un-notified (high half) and how many
 * notifications are waiting to be taken (low half). `notify(n)` turns up to `n` waiters into
 * notifications; a waiter wakes by taking one. Notifications carry no name, so the count is
 * exact (a notify wakes exactly as many waiters as it turned) even though which waiter takes
 * which is not fixed; a notify with nobody waiting turns nothing, so it is not remembered.
 */
import { codedError, invalidArgType } from '../errors.js';
import { validateCount, validateTimeout } from './arguments.js';
import { Lock } from './lock.js';
import { waitUntil, waitUntilAsync } from './park.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  revive,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import type { WaitQueue } from './wait-queue.js';

// Words 0-1: the 64-bit state.
const STATE_WORDS = 2;
const KIND = 'Condition';
const HALF = 0x1_0000_0000n;

let withLock: Lock | undefined;

/**
 * A place where threads wait, holding a {@link Lock}, until another thread notifies them that
 * what they wait for may have changed. `wait()` releases the lock while it waits and takes it
 * back before it returns or throws, interrupted included. Works in the main thread and in every
 * thread; pass it in `args` (its lock travels with it).
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * const nonEmpty = new Condition(lock);
 * // consumer
 * using _ = lock.hold();
 * nonEmpty.waitFor(() => items.length > 0);
 * // producer
 * { using _ = lock.hold(); items.push(x); nonEmpty.notify(); }
 * ```
 */
export class Condition implements SharedObject {
  readonly #memory: SharedMemory;
  readonly #state: BigInt64Array;
  readonly #queue: WaitQueue;
  /** The lock the waiters hold. */
  readonly lock: Lock;

  /** @param lock the lock its waiters hold; a new one when left out. */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) throw invalidArgType('lock', 'a Lock', lock);
    this.lock = withLock ?? lock ?? new Lock();
    withLock = undefined;
    this.#memory = memoryFor(this, KIND, () => SharedMemory.allocate(KIND, STATE_WORDS, 1));
    this.#state = new BigInt64Array(this.#memory.buffer, 0, 1);
    this.#queue = this.#memory.queue(STATE_WORDS, 0);
  }

  /**
   * Releases the lock, waits until notified or `timeoutMs` passes, and takes the lock back. The
   * caller must hold the lock. An interruption point: on an interrupt it takes the lock back,
   * then throws {@link ThreadInterruptedError}. May not be the only reason the state changed:
   * check it again (or use {@link waitFor}).
   *
   * @returns true when notified, false when the timeout passed first.
   * @throws Error with code `ERR_LOCK_NOT_HELD` when the calling thread does not hold the lock.
   * @example
   * ```ts
   * using _ = lock.hold();
   * while (queue.length === 0) cond.wait();
   * ```
   */
  wait(timeoutMs?: number): boolean {
    const timeout = validateTimeout(timeoutMs);
    this.#checkHeld('wait');
    // Interrupted on entry: thrown with the lock held, as it is on any other way out.
    this.#enter();
    this.lock.release();
    let notified = false;
    try {
      notified = waitUntil(this.#queue, () => this.#take(), timeout);
      if (!notified) notified = this.#leave();
    } catch (error) {
      // Interrupted: it must not swallow a notification meant for a waiter that stays.
      if (this.#leave()) this.notify(1);
      throw error;
    } finally {
      this.lock.reacquire();
    }
    return notified;
  }

  /**
   * The awaitable {@link wait}.
   *
   * @example
   * ```ts
   * await lock.acquireAsync();
   * try { while (!ready) await cond.waitAsync(); } finally { lock.release(); }
   * ```
   */
  async waitAsync(timeoutMs?: number): Promise<boolean> {
    const timeout = validateTimeout(timeoutMs);
    this.#checkHeld('waitAsync');
    this.#enter();
    this.lock.release();
    let notified = false;
    try {
      notified = await waitUntilAsync(this.#queue, () => this.#take(), timeout);
      if (!notified) notified = this.#leave();
    } catch (error) {
      if (this.#leave()) this.notify(1);
      throw error;
    } finally {
      await this.lock.reacquireAsync();
    }
    return notified;
  }

  /**
   * Waits until `predicate()` is true, for at most `timeoutMs` in all, checking it first and
   * after every wake-up (with the lock held). The caller must hold the lock.
   *
   * @returns the predicate's last answer: false only when the timeout passed.
   * @example
   * ```ts
   * using _ = lock.hold();
   * if (!cond.waitFor(() => jobs.length > 0, 5_000)) return;
   * ```
   */
  waitFor(predicate: () => boolean, timeoutMs?: number): boolean {
    if (typeof predicate !== 'function') throw invalidArgType('predicate', 'a function', predicate);
    const timeout = validateTimeout(timeoutMs);
    this.#checkHeld('waitFor');
    const deadline = timeout === Number.POSITIVE_INFINITY ? timeout : performance.now() + timeout;
    for (;;) {
      if (predicate()) return true;
      const left = deadline === timeout ? timeout : deadline - performance.now();
      if (left <= 0) return false;
      this.wait(left);
    }
  }

  /**
   * The awaitable {@link waitFor}.
   *
   * @example
   * ```ts
   * await cond.waitForAsync(() => done);
   * ```
   */
  async waitForAsync(predicate: () => boolean, timeoutMs?: number): Promise<boolean> {
    if (typeof predicate !== 'function') throw invalidArgType('predicate', 'a function', predicate);
    const timeout = validateTimeout(timeoutMs);
    this.#checkHeld('waitForAsync');
    const deadline = timeout === Number.POSITIVE_INFINITY ? timeout : performance.now() + timeout;
    for (;;) {
      if (predicate()) return true;
      const left = deadline === timeout ? timeout : deadline - performance.now();
      if (left <= 0) return false;
      await this.waitAsync(left);
    }
  }

  /**
   * Wakes `n` of the threads waiting (default 1; fewer if fewer wait). A notify with no waiter is
   * not remembered. The lock need not be held.
   *
   * @example
   * ```ts
   * { using _ = lock.hold(); items.push(item); }
   * cond.notify();
   * ```
   */
  notify(n = 1): void {
    const count = BigInt(validateCount(n, 'n', 0));
    for (let seen = Atomics.load(this.#state, 0); ; ) {
      const waiting = seen / HALF;
      const turned = waiting < count ? waiting : count;
      if (turned === 0n) return;
      const prior = Atomics.compareExchange(this.#state, 0, seen, seen - turned * HALF + turned);
      if (prior === seen) break;
      seen = prior;
    }
    this.#queue.wakeAll();
  }

  /**
   * Wakes every thread waiting.
   *
   * @example
   * ```ts
   * shuttingDown = true;
   * cond.notifyAll();
   * ```
   */
  notifyAll(): void {
    this.notify(2 ** 31 - 1);
  }

  #checkHeld(method: string): void {
    if (!this.lock.heldByCurrentThread()) {
      throw codedError(
        Error,
        'ERR_LOCK_NOT_HELD',
        `Cannot call condition.${method}(): the calling thread does not hold the condition's lock. Acquire it first (using _ = condition.lock.hold()).`,
      );
    }
  }

  /** Counts the caller as a waiter. */
  #enter(): void {
    Atomics.add(this.#state, 0, HALF);
  }

  /** Takes a notification, if one is waiting. */
  #take(): boolean {
    for (let seen = Atomics.load(this.#state, 0); seen % HALF !== 0n; ) {
      const prior = Atomics.compareExchange(this.#state, 0, seen, seen - 1n);
      if (prior === seen) return true;
      seen = prior;
    }
    return false;
  }

  /**
   * Stops waiting without a notification: uncounts the caller, or, when every waiter has been
   * turned into a notification meanwhile (its own among them), takes one. True in that case.
   */
  #leave(): boolean {
    for (let seen = Atomics.load(this.#state, 0); ; ) {
      const next = seen >= HALF ? seen - HALF : seen - 1n;
      const prior = Atomics.compareExchange(this.#state, 0, seen, next);
      if (prior === seen) return seen < HALF;
      seen = prior;
    }
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    return { ...this.#memory.describe(), links: [this.lock[DESCRIBE]()] };
  }

  static {
    registerKind(KIND, (_memory, description) => {
      const lock = description.links?.[0];
      withLock = lock === undefined ? undefined : (revive(lock) as Lock);
      return new Condition();
    });
  }
}
