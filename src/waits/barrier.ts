/**
 * A cyclic barrier between threads (Java's `CyclicBarrier`, Python's `threading.Barrier`), whose
 * waits are interruption points.
 *
 * Its state is one 64-bit word: the waiters arrived in the current phase (bits 0-15), whether
 * the barrier is broken (bit 16), the phase number (bits 17-31), and how each of the last 32
 * phases ended (bits 32-63, bit `32 + phase % 32`: 1 released, 0 broken or reset). A waiter that
 * wakes to find the phase moved on reads how its own phase ended there, so a waiter woken late
 * is never told the wrong outcome.
 */

import { codedError } from '../coded-errors.js';
import { interruptedError, interruptPending } from '../current.js';
import { validateCount, validateTimeout } from './arguments.js';
import { waitUntil, waitUntilAsync } from './park.js';
import {
  DESCRIBE,
  memoryFor,
  registerKind,
  type SharedDescription,
  SharedMemory,
  type SharedObject,
} from './shared-memory.js';
import type { WaitQueue } from './wait-queue.js';

const STATE_WORDS = 2;
const KIND = 'Barrier';
const MAX_PARTIES = 0xffff;
const ARRIVED = 0xffffn;
const BROKEN = 1n << 16n;
const PHASE_SHIFT = 17n;
const PHASE_MASK = 0x7fffn;

const arrivedOf = (s: bigint): number => Number(s & ARRIVED);
const phaseOf = (s: bigint): bigint => (s >> PHASE_SHIFT) & PHASE_MASK;
const isBroken = (s: bigint): boolean => (s & BROKEN) !== 0n;
const outcomeBit = (phase: bigint): bigint => 1n << (32n + (phase % 32n));

/** The state that starts the phase after `s`'s, recording whether `s`'s phase was released. */
function nextPhase(s: bigint, released: boolean): bigint {
  const phase = phaseOf(s);
  const history = ((s >> 32n) << 32n) & ~outcomeBit(phase);
  return (released ? history | outcomeBit(phase) : history) | (((phase + 1n) & PHASE_MASK) << PHASE_SHIFT);
}

/**
 * A meeting point for a fixed number of threads (`parties`): each `wait()` blocks until all have
 * arrived, then all go on together, and the barrier is ready for the next round. When a waiter
 * is interrupted or times out, the barrier breaks: every other waiter, and every later `wait()`
 * until {@link reset}, throws `ERR_BARRIER_BROKEN`. Works in the main thread and in every
 * thread; pass it in `args`.
 *
 * @example
 * ```ts
 * const step = new Barrier(4);
 * // in each of 4 threads:
 * for (const chunk of chunks) {
 *   compute(chunk);
 *   step.wait(); // all four finish a step before any starts the next
 * }
 * ```
 */
export class Barrier implements SharedObject {
  readonly #memory: SharedMemory;
  readonly #state: BigUint64Array;
  readonly #queue: WaitQueue;
  /** How many threads each round waits for. */
  readonly parties: number;

  /** @param parties how many threads each round waits for (an integer from 1 to 65535). */
  constructor(parties: number) {
    this.#memory = memoryFor(this, KIND, () =>
      SharedMemory.allocate(KIND, STATE_WORDS, 1, [validateCount(parties, 'parties', 1, MAX_PARTIES)]),
    );
    this.parties = this.#memory.config[0]!;
    this.#state = new BigUint64Array(this.#memory.buffer, 0, 1);
    this.#queue = this.#memory.queue(STATE_WORDS, 0);
  }

  /**
   * True once a waiter was interrupted or timed out (or reset() broke waiters) and until
   * {@link reset}.
   */
  get broken(): boolean {
    return isBroken(Atomics.load(this.#state, 0));
  }

  /**
   * Arrives and waits until all parties have, or `timeoutMs` passes. An interruption point.
   *
   * @returns the arrival index (0 for the first to arrive, `parties - 1` for the last), or
   *   undefined when the timeout passed first (the barrier is then broken).
   * @throws Error with code `ERR_BARRIER_BROKEN` when the barrier is or becomes broken;
   *   {@link ThreadInterruptedError} when the calling thread is interrupted (it breaks the
   *   barrier).
   * @example
   * ```ts
   * if (barrier.wait(10_000) === 0) console.log('first to arrive');
   * ```
   */
  wait(timeoutMs?: number): number | undefined {
    const timeout = validateTimeout(timeoutMs);
    const arrival = this.#arrive();
    if (typeof arrival === 'number') return arrival;
    let woken: boolean;
    try {
      woken = waitUntil(this.#queue, arrival.moved, timeout);
    } catch (error) {
      return this.#interrupted(arrival, error);
    }
    return this.#settle(arrival, woken);
  }

  /**
   * The awaitable {@link wait}.
   *
   * @example
   * ```ts
   * const index = await barrier.waitAsync();
   * ```
   */
  async waitAsync(timeoutMs?: number): Promise<number | undefined> {
    const timeout = validateTimeout(timeoutMs);
    const arrival = this.#arrive();
    if (typeof arrival === 'number') return arrival;
    let woken: boolean;
    try {
      woken = await waitUntilAsync(this.#queue, arrival.moved, timeout);
    } catch (error) {
      return this.#interrupted(arrival, error);
    }
    return this.#settle(arrival, woken);
  }

  /** Counts the caller in: its index when it is the last (all go on), else what to wait for. */
  #arrive(): number | Arrival {
    const words = this.#state;
    if (interruptPending()) {
      this.#break(phaseOf(Atomics.load(words, 0)));
      throw interruptedError();
    }
    for (let seen = Atomics.load(words, 0); ; ) {
      if (isBroken(seen)) throw brokenError();
      const index = arrivedOf(seen);
      const phase = phaseOf(seen);
      const last = index + 1 === this.parties;
      const prior = Atomics.compareExchange(words, 0, seen, last ? nextPhase(seen, true) : seen + 1n);
      if (prior !== seen) {
        seen = prior;
        continue;
      }
      if (!last) {
        const moved = (): boolean => {
          const s = Atomics.load(words, 0);
          return phaseOf(s) !== phase || isBroken(s);
        };
        return { index, phase, moved };
      }
      this.#queue.wakeAll();
      return index;
    }
  }

  /** After an interrupt: released meanwhile, it goes on with the others (the flag stays set). */
  #interrupted(arrival: Arrival, error: unknown): number {
    if (this.#break(arrival.phase) === 'released') return arrival.index;
    throw error;
  }

  #settle(arrival: Arrival, woken: boolean): number | undefined {
    if (!woken) return this.#break(arrival.phase) === 'released' ? arrival.index : undefined;
    if (this.#outcome(arrival.phase) === 'released') return arrival.index;
    throw brokenError();
  }

  /**
   * Breaks the current round (its waiters throw `ERR_BARRIER_BROKEN`) and makes the barrier
   * ready for a new one, not broken.
   *
   * @example
   * ```ts
   * barrier.reset();
   * ```
   */
  reset(): void {
    const words = this.#state;
    for (let seen = Atomics.load(words, 0); ; ) {
      const prior = Atomics.compareExchange(words, 0, seen, nextPhase(seen, false));
      if (prior === seen) break;
      seen = prior;
    }
    this.#queue.wakeAll();
  }

  /** How `phase` ended, or 'pending' while it is the current phase and not broken. */
  #outcome(phase: bigint): 'released' | 'broken' | 'pending' {
    const s = Atomics.load(this.#state, 0);
    if (phaseOf(s) === phase) return isBroken(s) ? 'broken' : 'pending';
    return (s & outcomeBit(phase)) !== 0n ? 'released' : 'broken';
  }

  /** Breaks `phase` if it is still the current one; tells how it ended. */
  #break(phase: bigint): 'released' | 'broken' {
    const words = this.#state;
    for (let seen = Atomics.load(words, 0); ; ) {
      if (phaseOf(seen) !== phase) return (seen & outcomeBit(phase)) !== 0n ? 'released' : 'broken';
      if (isBroken(seen)) return 'broken';
      const prior = Atomics.compareExchange(words, 0, seen, seen | BROKEN);
      if (prior === seen) {
        this.#queue.wakeAll();
        return 'broken';
      }
      seen = prior;
    }
  }

  /** @internal */
  [DESCRIBE](): SharedDescription {
    return this.#memory.describe();
  }

  static {
    registerKind(KIND, (memory) => new Barrier(memory.config[0]!));
  }
}

interface Arrival {
  readonly index: number;
  readonly phase: bigint;
  /** True once the phase has ended or broken. */
  readonly moved: () => boolean;
}

function brokenError(): Error {
  return codedError(
    Error,
    'ERR_BARRIER_BROKEN',
    'The barrier is broken: a waiter was interrupted or timed out, or reset() was called while threads waited. Call reset() before using it again.',
  );
}
