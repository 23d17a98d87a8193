/**
 * The wait queue of a lock, event, semaphore, condition, barrier or queue: which threads are
 * parked waiting for it to change, kept in its shared memory, so that whoever changes it (in any
 * thread) can wake them.
 *
 * Each thread parks on one word of its group's registry (its slot's park word, or the root's),
 * which an interrupt of that thread also bumps: so a parked thread wakes both when what it waits
 * for changes and when it is interrupted, with one `Atomics.wait` (the design of Java's
 * `LockSupport.park`, each thread parking on its own word). The queue holds one bit per
 * registry slot, plus one for the root: a waker bumps and notifies the park word of every thread
 * whose bit is set. Every waiter re-checks its condition when it wakes, so a spurious wake (a
 * bit left by a thread that was terminated while parked, or a bit of a thread waiting for
 * something else of the same primitive) costs a look, never correctness.
 *
 * A thread of another group (a plain `new Worker()` the object was posted to, or a thread it
 * started) has no park word in this registry: it parks on the queue's own sequence word, which
 * every wake also bumps, looking at its flag every {@link FOREIGN_SLICE_MS}.
 *
 * Layout, at `offset` in the primitive's words: `[waiters, seq, bits...]`.
 */
import { type ControlBlock, FLAG_WAIT_SLICE_MS, highWater, isLive, parkIndex, unpark } from '../control-block.js';
import { state } from '../thread-state.js';

const WAITERS = 0;
const SEQ = 1;
const BITS = 2;

/**
 * How long a thread of another group parks before looking at its flag again: nothing can wake it
 * on an interrupt, so this bounds how late it notices one.
 */
export const FOREIGN_SLICE_MS = 20;

// Set by the test suite only (on a registered global symbol, in each thread, before any wait):
// a slice long enough that a lost wake-up shows as a hang instead of a one-second delay.
const SLICE_KEY = Symbol.for('graceful-threads.test.park-slice-ms');

/** How long a thread parked on its own word blocks before looking again. */
function ownSliceMs(): number {
  const override = (globalThis as Record<symbol, unknown>)[SLICE_KEY];
  return typeof override === 'number' ? override : FLAG_WAIT_SLICE_MS;
}

/** How many words a wait queue takes for a registry of `capacity` slots. */
export function waitQueueWords(capacity: number): number {
  return BITS + Math.ceil((capacity + 1) / 32);
}

/** Where the calling thread parks for one queue: a word, and how long to block on it at most. */
export interface ParkSpot {
  readonly words: Int32Array;
  readonly index: number;
  /** Re-check at least this often: a wake-up lost with a terminated waker is made up for. */
  readonly sliceMs: number;
}

/** What a wait needs: where to park, and how to tell wakers it is there. */
export interface Parking {
  readonly spot: ParkSpot;
  enlist(): void;
  delist(): void;
}

/**
 * Parking for a wait whose waker knows the calling thread's park word without a queue (a thread
 * ending wakes its parent, blocked in `joinSync()`). The calling thread must be in `registry`.
 */
export function ownParking(registry: ControlBlock): Parking {
  const caller = callerOf(registry);
  if (caller === 'foreign') throw new Error('graceful-threads: internal error: parking outside the own group');
  const spot = { words: registry.words, index: parkIndex(caller), sliceMs: ownSliceMs() };
  return { spot, enlist() {}, delist() {} };
}

/** A wait queue in shared memory, as seen from the calling thread. */
export class WaitQueue implements Parking {
  readonly #words: Int32Array;
  readonly #offset: number;
  readonly #registry: ControlBlock;
  /** The calling thread's bit, or undefined when it belongs to another group. */
  readonly #bit: number | undefined;
  /** How many of the calling thread's waits are enlisted (its async waits can overlap). */
  #enlisted = 0;
  readonly spot: ParkSpot;

  constructor(words: Int32Array, offset: number, registry: ControlBlock) {
    this.#words = words;
    this.#offset = offset;
    this.#registry = registry;
    const caller = callerOf(registry);
    if (caller === 'foreign') {
      this.#bit = undefined;
      this.spot = { words, index: offset + SEQ, sliceMs: FOREIGN_SLICE_MS };
    } else {
      this.#bit = caller ?? registry.capacity;
      this.spot = { words: registry.words, index: parkIndex(caller), sliceMs: ownSliceMs() };
    }
  }

  /**
   * Adds the calling thread to the queue. Call before the last look at the condition: a waker
   * changes the state, then reads the queue, so one of the two sees the other.
   */
  enlist(): void {
    if (this.#enlisted++ !== 0) return;
    Atomics.add(this.#words, this.#offset + WAITERS, 1);
    if (this.#bit !== undefined) {
      Atomics.or(this.#words, this.#offset + BITS + (this.#bit >>> 5), 1 << (this.#bit & 31));
    }
  }

  /** Removes the calling thread once its last enlisted wait has ended. */
  delist(): void {
    if (--this.#enlisted !== 0) return;
    if (this.#bit !== undefined) {
      Atomics.and(this.#words, this.#offset + BITS + (this.#bit >>> 5), ~(1 << (this.#bit & 31)));
    }
    Atomics.sub(this.#words, this.#offset + WAITERS, 1);
  }

  /** True when some thread may be parked on the queue: the one load an uncontended release pays. */
  hasWaiters(): boolean {
    return Atomics.load(this.#words, this.#offset + WAITERS) !== 0;
  }

  /**
   * The calling thread's bit: its slot in the registry (the root's is `capacity`), or
   * `capacity + 1` for every thread of another group, which all share it.
   */
  get bit(): number {
    return this.#bit ?? this.#registry.capacity + 1;
  }

  /**
   * A tag for the calling thread's bit that a later thread on the same bit (the next thread in
   * the slot) does not share: its slot's generation + 1, or 1 for the root and other groups.
   */
  get tag(): number {
    return this.#bit !== undefined && this.#bit < this.#registry.capacity ? state.self.gen + 1 : 1;
  }

  /** False when the thread that tagged `bit` with `tag` has ended (its slot was released). */
  isCurrent(bit: number, tag: number): boolean {
    return bit >= this.#registry.capacity || isLive(this.#registry, { slot: bit, gen: tag - 1 });
  }

  /** Wakes every thread parked on the queue. Call after changing the state they wait for. */
  wakeAll(): void {
    const words = this.#words;
    // hasWaiters(), inline: every release and put runs this.
    if (Atomics.load(words, this.#offset + WAITERS) === 0) return;
    // visitEnlisted() and wake(), inline: what runs before a notify here runs between the change
    // and the waiter's wake-up (a put and its taker), and each call made there cold costs it.
    // Threads of other groups first, parked on the queue's own word: the notify that wakes a
    // thread of this group comes last, as an interrupt's does (see wakeTarget in
    // src/control-block.ts): a notify after it, even of a word nobody waits on, takes the
    // engine's lock of every wait, which the thread it woke needs on its way out of its wait.
    unpark(Atomics, words, this.#offset + SEQ);
    const registry = this.#registry;
    const parks = registry.words;
    const base = this.#offset + BITS;
    const capacity = registry.capacity;
    const rootWord = capacity >>> 5;
    const used = Math.min(Math.ceil(highWater(registry) / 32), rootWord);
    for (let i = 0; i <= used; i++) {
      const w = i === used ? rootWord : i;
      let bits = Atomics.load(words, base + w);
      while (bits !== 0) {
        const bit = w * 32 + 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const park = parkIndex(bit === capacity ? undefined : bit);
        Atomics.add(parks, park, 1);
        Atomics.notify(parks, park);
      }
    }
  }

  /**
   * Calls `visit` with the bit of each thread enlisted now, until it returns true: the slots ever
   * used and the root, starting at word `from` (so that callers waking one thread at a time take
   * turns), then always the shared bit of other groups. A plain loop: every wake runs it.
   */
  visitEnlisted(visit: (bit: number) => boolean, from = 0): void {
    const words = this.#words;
    const base = this.#offset + BITS;
    const capacity = this.#registry.capacity;
    const rootWord = capacity >>> 5;
    // The words of the slots ever used (past the high water they are clear), then the root's:
    // not a pass over every word of a registry of 4096 slots.
    const used = Math.min(Math.ceil(highWater(this.#registry) / 32), rootWord);
    for (let i = 0; i <= used; i++) {
      const k = (from + i) % (used + 1);
      const w = k === used ? rootWord : k;
      let bits = Atomics.load(words, base + w);
      while (bits !== 0) {
        const low = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        if (visit(w * 32 + low) === true) return;
      }
    }
    visit(capacity + 1); // threads of other groups, parked on the queue's own word
  }

  /** Wakes the thread of `bit` (all threads of other groups for theirs). */
  wake(bit: number): void {
    const registry = this.#registry;
    if (bit > registry.capacity) unpark(Atomics, this.#words, this.#offset + SEQ);
    else unpark(Atomics, registry.words, parkIndex(bit === registry.capacity ? undefined : bit));
  }
}

/** The calling thread as a caller in `registry`, or 'foreign' when it has no park word there. */
function callerOf(registry: ControlBlock): number | undefined | 'foreign' {
  if (state.managed && registry === state.block) return state.self.slot;
  if (registry === state.registry) return undefined; // the group's root
  return 'foreign';
}
