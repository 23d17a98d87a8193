/**
 * A condition variable between threads (Java's `Condition`, Python's `threading.Condition`),
 * whose waits are interruption points.
 *
 * A notification goes to a thread that waits at the moment of the notify, never to one that
 * starts waiting after it (else a thread that notifies and then waits again could take its own
 * notification, leaving the others asleep). So each thread has a record of its own, indexed like
 * its bit in the wait queue: a tag naming the thread (its slot's generation, so a record left by
 * a terminated thread is known as stale, skipped by notify and reset by the slot's next thread),
 * and a count word: how many of its waits are registered (high half) and how many of those are
 * notified (low half). `notify(n)` hands out up to `n` notifications among the records of the
 * threads enlisted now; a wait ends by taking one of its own thread's. Within a thread, its
 * async waits take them in the order they began; a blocking wait takes any (the async ones
 * cannot run while it blocks). All threads of other groups share one record.
 */
import { codedError, invalidArgType } from '../coded-errors.js';
import type { ThreadInterruptedError } from '../errors.js';
import { ensureRegistry } from '../registry.js';
import { validateCount, validateTimeout } from './arguments.js';
import { Lock } from './lock.js';
import { parkUntil, waitUntilAsync } from './park.js';
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

const KIND = 'Condition';
/** A record: waits registered, in the high half; notified, in the low half. */
const WAIT = 0x1_0000;
const NOTIFIED = 0xffff;
/** One record (tag, counts) per slot, one for the root, one for all threads of other groups. */
const recordsFor = (capacity: number): number => 2 * (capacity + 2);

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
  readonly #words: Int32Array;
  readonly #queue: WaitQueue;
  /** The index of the calling thread's count word (see {@link #enter}). */
  readonly #record: number;
  /** The calling thread's waits on this condition, oldest first: the head takes first. */
  readonly #mine: object[] = [];
  /** Where the next notify starts looking, so that notify(1) does not favour low slots. */
  #cursor = 0;
  /** The lock the waiters hold. */
  readonly lock: Lock;

  /** @param lock the lock its waiters hold; a new one when left out. */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) throw invalidArgType('lock', 'a Lock', lock);
    this.lock = withLock ?? lock ?? new Lock();
    withLock = undefined;
    this.#memory = memoryFor(this, KIND, () => {
      const capacity = ensureRegistry().capacity;
      return SharedMemory.allocate(KIND, recordsFor(capacity), 1);
    });
    this.#words = this.#memory.words;
    this.#queue = this.#memory.queue(recordsFor(this.#memory.registry.capacity), 0);
    this.#record = 2 * this.#queue.bit + 1;
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
    const me = this.#enter();
    this.lock.release();
    // Undefined when the wait threw; the interrupt is returned, and thrown once the lock is back:
    // no catch and rethrow on the way (see parkUntil).
    let outcome: boolean | ThreadInterruptedError | undefined;
    try {
      outcome = parkUntil(this.#queue, () => this.#take(me, true), timeout);
      if (outcome === false) outcome = this.#leave(me);
    } finally {
      // Interrupted (or failed): it must not swallow a notification meant for a waiter that stays.
      if (outcome !== true && outcome !== false && this.#leave(me)) this.notify(1);
      this.#queue.delist();
      this.lock.reacquire();
    }
    if (outcome === true || outcome === false) return outcome;
    throw outcome;
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
    const me = this.#enter();
    this.lock.release();
    let notified = false;
    try {
      notified = await waitUntilAsync(this.#queue, () => this.#take(me, false), timeout);
      if (!notified) notified = this.#leave(me);
    } catch (error) {
      if (this.#leave(me)) this.notify(1);
      throw error;
    } finally {
      this.#queue.delist();
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
    const timeLeft = this.#startWaitFor('waitFor', predicate, timeoutMs);
    for (;;) {
      if (predicate()) return true;
      const left = timeLeft();
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
    const timeLeft = this.#startWaitFor('waitForAsync', predicate, timeoutMs);
    for (;;) {
      if (predicate()) return true;
      const left = timeLeft();
      if (left <= 0) return false;
      await this.waitAsync(left);
    }
  }

  /** Checks a waitFor call's arguments and lock; returns how long it has left, when asked. */
  #startWaitFor(method: string, predicate: unknown, timeoutMs: unknown): () => number {
    if (typeof predicate !== 'function') throw invalidArgType('predicate', 'a function', predicate);
    const timeout = validateTimeout(timeoutMs);
    this.#checkHeld(method);
    if (timeout === Number.POSITIVE_INFINITY) return () => timeout;
    const deadline = performance.now() + timeout;
    return () => deadline - performance.now();
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
    let left = validateCount(n, 'n', 0);
    if (left === 0 || !this.#queue.hasWaiters()) return;
    const words = this.#words;
    const queue = this.#queue;
    queue.visitEnlisted(
      (bit) => {
        if (!queue.isCurrent(bit, Atomics.load(words, 2 * bit))) return false; // a terminated waiter's
        const counts = 2 * bit + 1;
        let given = 0;
        for (let seen = Atomics.load(words, counts); ; ) {
          const waiting = (seen >>> 16) - (seen & NOTIFIED);
          given = Math.min(waiting, left);
          if (given === 0) return false;
          const prior = Atomics.compareExchange(words, counts, seen, seen + given);
          if (prior === seen) break;
          seen = prior;
        }
        queue.wake(bit);
        left -= given;
        return left === 0;
      },
      this.#cursor++,
    );
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

  /**
   * Registers a wait of the calling thread: enlisted in the queue (so a notify finds its
   * record), then counted in its record. Returns the wait's place in the thread's order.
   */
  #enter(): object {
    const me = {};
    const words = this.#words;
    const bit = this.#queue.bit;
    const tag = this.#queue.tag;
    if (Atomics.load(words, 2 * bit) !== tag) {
      // The first wait of a new thread in this slot: what the last one left is void.
      Atomics.store(words, 2 * bit + 1, 0);
      Atomics.store(words, 2 * bit, tag);
    }
    this.#queue.enlist();
    Atomics.add(words, 2 * bit + 1, WAIT);
    this.#mine.push(me);
    return me;
  }

  /**
   * Takes a notification of the calling thread's, if one is there and `me` may: a blocking wait
   * always, an async one when it is the thread's oldest wait.
   */
  #take(me: object, blocking: boolean): boolean {
    const mine = this.#mine;
    if (!blocking && mine[0] !== me) return false;
    const words = this.#words;
    const record = this.#record;
    for (let seen = Atomics.load(words, record); (seen & NOTIFIED) !== 0; ) {
      const prior = Atomics.compareExchange(words, record, seen, seen - WAIT - 1);
      if (prior === seen) {
        forget(mine, me);
        return true;
      }
      seen = prior;
    }
    return false;
  }

  /**
   * Ends a wait that took no notification: uncounts it, or, when every wait of the thread has
   * been notified meanwhile (so one of the notifications is this one's), takes one. True then.
   */
  #leave(me: object): boolean {
    const mine = this.#mine;
    // forget(), its usual case inline (the wait leaving is the thread's latest): an interrupted
    // wait runs this just woken, where each call costs.
    if (mine[mine.length - 1] === me) mine.pop();
    else if (!forget(mine, me)) return false; // it took one
    const words = this.#words;
    const record = this.#record;
    for (let seen = Atomics.load(words, record); ; ) {
      const notified = seen >>> 16 === (seen & NOTIFIED);
      const prior = Atomics.compareExchange(words, record, seen, seen - WAIT - (notified ? 1 : 0));
      if (prior === seen) return notified;
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

/**
 * Removes `me` from a thread's waits; false when it is not there. A blocking wait is its thread's
 * newest (nothing else of the thread runs while it blocks), so it is removed without a search or
 * a splice: less to run between an interrupt's wake-up and the throw, in a thread gone cold.
 */
function forget(mine: object[], me: object): boolean {
  if (mine[mine.length - 1] === me) {
    mine.pop();
    return true;
  }
  const index = mine.indexOf(me);
  if (index === -1) return false;
  mine.splice(index, 1);
  return true;
}
