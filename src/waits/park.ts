/**
 * Waiting until a condition over shared memory holds: the one loop every blocking method of
 * `src/waits/` runs (`waitUntil`), and its awaitable twin (`waitUntilAsync`). Both are
 * interruption points: an interrupt wakes the thread at once and throws (rejects) with the
 * {@link ThreadInterruptedError}, without `ready()` having succeeded; inside a critical section
 * they keep waiting.
 */
import { flagIndex, HAS_REASON, interruptSeqIndex, REQUESTED, seenIndex } from '../control-block.js';
import { interruptedError, interruptedErrorAfterWait, interruptPending, warmInterruptPath } from '../current.js';
import { ThreadInterruptedError } from '../errors.js';
import { rare } from '../lazy-rare.js';
import { assertCanBlock, createKeepAlive, type KeepAlive } from '../runtime/node.js';
import { state } from '../thread-state.js';
import type { Parking, ParkSpot } from './wait-queue.js';

/**
 * Tries to take what the caller waits for (a lock, a permit, an item) or checks that it has
 * come; true when done. Runs again after every wake-up, so it must be cheap and must not block.
 */
export type Attempt = () => boolean;

const clock = (): number => performance.now();

// This thread's flag word, read after each wake-up (interruptPending() inline: one call fewer in a
// thread just woken).
const flagWords = state.block.words;
const flagWord = flagIndex(state.self.slot);
// Where an interruption point notes that the thread has seen its interrupt (noteSeen in
// src/current.ts), for the inline copy on the way out of a wait.
const seqWord = interruptSeqIndex(state.self.slot);
const seenWord = seenIndex(state.self.slot);

/**
 * Blocks until `attempt()` succeeds (true), the timeout passes (false), or the thread is
 * interrupted (throws). Checks the interrupt first: a wait entered interrupted throws at once.
 */
export function waitUntil(queue: Parking, attempt: Attempt, timeoutMs: number, interruptible = true): boolean {
  const outcome = parkUntil(queue, attempt, timeoutMs, interruptible);
  if (outcome === true || outcome === false) return outcome;
  throw outcome;
}

/**
 * {@link waitUntil} for a public wait to call directly: an interrupt is returned, the
 * {@link ThreadInterruptedError} for the caller to throw, not thrown here. A throw that unwinds
 * through one frame fewer, and through no `finally`, costs an interrupted thread less on its way
 * to its catch: in a thread just woken (its caches cold), V8 took 25-35 us to throw from a callee
 * to its caller (a throw caught in its own frame: 13-16 us), and with this loop's frame and
 * `finally` between the throw and the caller's catch, 5-10 us more (Node 20 and 26).
 */
export function parkUntil(
  queue: Parking,
  attempt: Attempt,
  timeoutMs: number,
  interruptible = true,
): boolean | ThreadInterruptedError {
  if (interruptible && interruptPending()) return interruptedError();
  // Before the first attempt: a wait that may block fails where blocking is forbidden (a page's
  // main thread) whether or not it would have had to wait this time, not only under contention.
  if (timeoutMs > 0) assertCanBlock();
  if (attempt()) return true;
  if (timeoutMs <= 0) return false;
  // A wait without end reads no clock (Node loads `performance` on first use).
  const deadline = timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : clock() + timeoutMs;
  const { words, index, sliceMs } = queue.spot;
  let ahead: ThreadInterruptedError | undefined;
  // Undefined when the loop ends on an interrupt.
  let outcome: boolean | undefined;
  // The flag word as last read: on an interrupt, whether it carries a reason.
  let flag = 0;
  queue.enlist();
  try {
    for (;;) {
      // Read before the last look: a wake-up after it changes the word, and the wait returns.
      const seen = Atomics.load(words, index);
      if (interruptible) flag = Atomics.load(flagWords, flagWord);
      if ((flag & REQUESTED) !== 0 && state.criticalDepth === 0) break;
      if (attempt()) {
        outcome = true;
        break;
      }
      const left = deadline === Number.POSITIVE_INFINITY ? sliceMs : deadline - clock();
      if (left <= 0) {
        outcome = false;
        break;
      }
      if (interruptible) {
        warmInterruptPath();
        // Built before blocking, as sleep() does: its stack is this wait's, and capturing it is
        // most of what would otherwise run between the interrupt's wake-up and the throw. It
        // costs a park about 3 us (10-15% more CPU where threads park all the time, as 4 x 4
        // threads on a queue of 16 do); building it only once blocked 1 ms, with a first wait of
        // 1 ms, cost as much there (the short timed wait itself, measured on Node 20).
        ahead ??= new ThreadInterruptedError();
      }
      Atomics.wait(words, index, seen, Math.min(left, sliceMs));
    }
  } finally {
    // Also when attempt() throws; the interrupt itself leaves the loop without a throw.
    queue.delist();
  }
  if (outcome !== undefined) return outcome;
  // The error built ahead, as interruptedErrorAfterWait() gives it without a reason, inline: each
  // call made between the wake-up and the throw, in a thread gone cold, costs it 1-4 us.
  if (ahead === undefined || (flag & HAS_REASON) !== 0) return interruptedErrorAfterWait(ahead);
  const seq = Atomics.load(flagWords, seqWord);
  if (Atomics.load(flagWords, seenWord) !== seq) Atomics.store(flagWords, seenWord, seq);
  return ahead;
}

/**
 * Resolves true once `attempt()` succeeds, false when the timeout passes, and rejects with the
 * {@link ThreadInterruptedError} when the thread is interrupted (at once if it already is).
 * Never blocks the event loop, and keeps it alive while pending.
 */
export function waitUntilAsync(
  queue: Parking,
  attempt: Attempt,
  timeoutMs: number,
  interruptible = true,
): Promise<boolean> {
  if (interruptible && interruptPending()) return Promise.reject(interruptedError());
  if (attempt()) return Promise.resolve(true);
  if (timeoutMs <= 0) return Promise.resolve(false);
  return new Promise<boolean>((resolve, reject) => {
    const waiter: AsyncWaiter = { attempt, queue, settle: undefined };
    const signal = interruptible ? rare().interruptionSignal() : undefined;
    let timer: { current: ReturnType<typeof setTimeout> | undefined } | undefined;
    const keepAlive = sharedKeepAlive();
    const settle = (outcome: boolean | Error): void => {
      waiter.settle = undefined;
      parkerFor(queue.spot).remove(waiter);
      queue.delist();
      if (timer !== undefined) clearTimeout(timer.current);
      signal?.removeEventListener('abort', onAbort);
      keepAlive.unref();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => settle(signal?.reason as Error);
    waiter.settle = settle;
    keepAlive.ref();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== Number.POSITIVE_INFINITY) timer = armTimer(timeoutMs, () => settle(false));
    queue.enlist();
    parkerFor(queue.spot).add(waiter);
  });
}

interface AsyncWaiter {
  readonly attempt: Attempt;
  readonly queue: Parking;
  /** Set while pending. */
  settle: ((outcome: boolean | Error) => void) | undefined;
}

// setTimeout fires at once for delays above 2^31 - 1 ms, so longer timeouts re-arm; `current`
// is the timer pending now, for clearTimeout.
const MAX_TIMER_MS = 2 ** 31 - 1;

function armTimer(
  ms: number,
  fire: () => void,
  timer: { current: ReturnType<typeof setTimeout> | undefined } = { current: undefined },
): { current: ReturnType<typeof setTimeout> | undefined } {
  const step = Math.min(ms, MAX_TIMER_MS);
  timer.current = setTimeout(() => (ms > step ? armTimer(ms - step, fire, timer) : fire()), step);
  return timer;
}

let keepAliveHandle: KeepAlive | undefined;
/** One keep-alive for all of the thread's pending waits: referenced while any is pending. */
function sharedKeepAlive(): KeepAlive {
  keepAliveHandle ??= createKeepAlive();
  return keepAliveHandle;
}

/**
 * Parks the calling thread's async waits of one spot: one `Atomics.waitAsync` at a time on the
 * park word, and on every change of it each pending wait tries again.
 */
class AsyncParker {
  readonly #spot: ParkSpot;
  readonly #waiters = new Set<AsyncWaiter>();
  #armed = false;
  /** Rounds in a row that found the word changed at once: past a few, yield to the event loop. */
  #busyRounds = 0;

  constructor(spot: ParkSpot) {
    this.#spot = spot;
  }

  /** Takes a waiter already enlisted in its queue. */
  add(waiter: AsyncWaiter): void {
    this.#waiters.add(waiter);
    if (!this.#armed) this.#round();
    // The armed wait fires on any change after it began, but the state may have changed between
    // the waiter's first attempt and its enlisting, with nobody to wake: one more look.
    else if (waiter.attempt()) waiter.settle?.(true);
  }

  remove(waiter: AsyncWaiter): void {
    this.#waiters.delete(waiter);
  }

  /** Tries every pending wait, then waits for the word to change from what it was before. */
  #round(): void {
    this.#armed = false;
    if (this.#waiters.size === 0) return;
    const { words, index, sliceMs } = this.#spot;
    const seen = Atomics.load(words, index);
    for (const waiter of this.#waiters) {
      if (waiter.settle !== undefined && waiter.attempt()) waiter.settle(true);
    }
    if (this.#waiters.size === 0) return;
    this.#armed = true;
    const wait = Atomics.waitAsync(words, index, seen, sliceMs);
    if (wait.async) {
      this.#busyRounds = 0;
      void wait.value.then(() => this.#round());
    } else if (++this.#busyRounds < 16) {
      queueMicrotask(() => this.#round());
    } else {
      this.#busyRounds = 0;
      setTimeout(() => this.#round(), 0);
    }
  }
}

// Weak: a thread of another group parks on each primitive's own word.
const parkers = new WeakMap<Int32Array, Map<number, AsyncParker>>();

function parkerFor(spot: ParkSpot): AsyncParker {
  let byIndex = parkers.get(spot.words);
  if (byIndex === undefined) {
    byIndex = new Map();
    parkers.set(spot.words, byIndex);
  }
  let parker = byIndex.get(spot.index);
  if (parker === undefined) {
    parker = new AsyncParker(spot);
    byIndex.set(spot.index, parker);
  }
  return parker;
}
