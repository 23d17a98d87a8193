/**
 * The shared control block: the layout of the memory that holds every thread's interruption flag,
 * and the atomic operations on it. Any thread holding the block can interrupt any slot in it and
 * wake a thread that waits on its flag with `Atomics.wait`.
 *
 * Memory: a header, then one 64-byte slot (its own cache line) per thread, so a thread polling its
 * flag never shares a line with another thread's writes. Interrupt reasons travel in a second
 * buffer, a fixed area per slot, as structured-clone bytes.
 *
 * The protocol, and why it survives a participant terminated at any instruction:
 * - The flag word packs `gen << 3 | LIVE | HAS_REASON | REQUESTED`. An interrupt is one
 *   compare-and-swap from exactly "this generation, live, clear" to "requested", so it can never
 *   land on a free slot or on the next thread to use the slot.
 * - The reason is written *before* that CAS, by the one interrupter holding the slot's reason
 *   claim, and the CAS publishes it (HAS_REASON). The target never waits for a writer.
 * - Between its CAS and its `notify` an interrupter can die (a terminated worker). Each thread
 *   records in its own slot which slot it is interrupting (`pending`); whoever releases a dead
 *   thread's slot (its parent, on the worker's exit) finishes the wake-up and frees the reason
 *   claim it held. A later interrupt of an already-interrupted slot notifies again, too.
 * - A slot is claimed by one CAS of its `owner` word, which names its parent, so releasing a
 *   thread releases exactly the slots its own thread claimed, even half-claimed ones.
 *
 * This layout is a protocol between copies of the package, not a private detail: every copy
 * loaded in a process (two versions in one dependency tree) works on the same block, found
 * through the versioned keys in src/thread-state.ts (`START_KEY`, `STATE_KEY`). A change to a
 * word's index or meaning must change those keys' version, so that copies with different layouts
 * keep apart instead of reading each other's words wrongly; the shared objects' own layouts
 * (src/waits/) are versioned the same way, by `REVIVERS_KEY` and `DESCRIBE`.
 */

/** Flag bit: interruption requested (what `interruptionRequested()` reads). */
export const REQUESTED = 1;
/** Flag bit: the reason bytes of this interrupt are in the slot's reason area. */
export const HAS_REASON = 2;
/** Flag bit: the slot belongs to a running thread of the word's generation. */
export const LIVE = 4;
const BITS = REQUESTED | HAS_REASON;
const GEN_SHIFT = 3;
const GEN_MASK = 0x1fffffff;

/** Bytes per slot for the reason of an interrupt, as structured-clone bytes. */
export const REASON_BYTES = 4096;

const HEADER_WORDS = 16;
const SLOT_WORDS = 16;
const MAGIC = 0x67746872; // "gthr"
const Header = {
  magic: 0,
  capacity: 1,
  highWater: 2,
  threadCounter: 3,
  /** Random, set once: tells two views of one block from views of two blocks. */
  id: 4,
  /** Where the group's root thread parks in the waits of `src/waits/` (see `parkIndex`). */
  rootPark: 5,
  /** Numbers the locks, queues... made in the group, so each thread knows one when it sees it again. */
  objectCounter: 6,
  /**
   * Bumped once per thread that ends (`markEnded`, or the freeing of a slot whose thread never
   * marked its end), by `markFinished` during a shutdown in the process's `'exit'`, and as a slot
   * is taken: shutdown waits on it (see `bumpEndCounter`).
   */
  endCounter: 7,
  /** 1 once a shutdown in the process's `'exit'` has begun (see `markGroupExiting`). */
  exiting: 8,
  /**
   * The end counter's value at which its waiter wants to be woken (see `setEndTarget`); 0: at
   * every bump.
   */
  endTarget: 9,
} as const;

/** Word offsets inside a slot. */
const Field = {
  flag: 0,
  /** 0: free; ROOT_OWNER: started by the group's root thread; else the parent's slot + 1. */
  owner: 1,
  nativeThreadId: 2,
  criticalDepth: 3,
  /** 0, or the token of the interrupter writing this slot's reason area. */
  reasonClaim: 4,
  reasonLength: 5,
  /** Bumped by every interrupt, so a reader can tell a new reason from one it has decoded. */
  interruptSeq: 6,
  /** The slot this slot's thread is interrupting right now, + 1 (0: none). */
  pending: 7,
  /**
   * Bumped by whoever wants the slot's thread to look again at what it waits for: a lock
   * released, an item put, an interrupt. The waits of `src/waits/` park on it.
   */
  park: 8,
  /** 0 while the slot's thread runs; its exit code + 1 once it is ending (see `markEnded`). */
  ended: 9,
  /** The `interruptSeq` of the last interrupt the slot's thread has seen set (for shutdown reports). */
  seen: 10,
  /**
   * Once the slot's thread's target has settled, its cleanup run and its outcome posted: 1, or 2
   * when output it printed was still on its way to the parent (see `markFinished`).
   */
  finished: 11,
  /**
   * 1 once the slot's thread's target has ended on an interrupt: that outcome, which its parent
   * reads here rather than in a message (a message per thread cost each thread 15-50 us on its
   * way out of a shutdown, and woke its parent's event loop once per thread).
   */
  outcome: 12,
  /** 1 when the slot's thread, as it ended, had written to its stdout or stderr, or failed (see `markEnded`). */
  output: 13,
  /**
   * How many waits on the flag word the slot's thread has pending (its interruption signal's
   * watcher: see `watchersIndex`). An interrupt notifies the flag word only when it is not 0.
   */
  watchers: 14,
} as const;

/** Bytes per slot for the thread's name, for reports by threads that did not start it. */
const NAME_BYTES = 128;
/** UTF-16 code units of a name kept per slot (the first unit holds the length). */
const NAME_UNITS = NAME_BYTES / 2 - 1;

const ROOT_OWNER = -1;

/**
 * How long an interrupter waits for another interrupter of the same slot to finish writing its
 * reason (normally a copy of at most 4 KiB) before it interrupts without a reason of its own.
 */
const CLAIM_WAIT_MS = 100;
/**
 * The same for the group's root thread (usually the main thread), shorter: a claim held by a
 * terminated worker is freed by that worker's parent, often the root itself, which cannot do so
 * while it waits, and its event loop should not stall long. Long enough for a holder descheduled
 * for a scheduler quantum or two, after which the root's interrupt carries no reason.
 */
const ROOT_CLAIM_WAIT_MS = 20;

/**
 * How long a thread blocks (on its park word: sleep() and the waits) before looking at its flag
 * again. A notify is never needed for
 * correctness past this: an interrupter that died between setting the flag and waking the
 * thread, whose parent is the sleeping thread itself, is made up for within it.
 */
export const FLAG_WAIT_SLICE_MS = 1000;

/** The shared memory of a control block, as sent to another thread. */
export interface ControlMemory {
  readonly control: SharedArrayBuffer;
  readonly reasons: SharedArrayBuffer;
  readonly names: SharedArrayBuffer;
}

/**
 * The atomic operations the protocol uses, `Atomics` itself in production. Tests pass an
 * instrumented copy to run real threads through chosen interleavings.
 */
export interface AtomicOps {
  load(words: Int32Array, index: number): number;
  store(words: Int32Array, index: number, value: number): number;
  add(words: Int32Array, index: number, value: number): number;
  compareExchange(words: Int32Array, index: number, expected: number, replacement: number): number;
  notify(words: Int32Array, index: number, count?: number): number;
  wait(words: Int32Array, index: number, value: number, timeout?: number): 'ok' | 'not-equal' | 'timed-out';
}

/** A control block: views over its shared memory. */
export interface ControlBlock {
  readonly memory: ControlMemory;
  readonly words: Int32Array;
  readonly reasons: Uint8Array;
  readonly names: Uint16Array;
  readonly capacity: number;
  readonly atomics: AtomicOps;
  /** Milliseconds on a monotonic clock, for bounded waits. */
  readonly now: () => number;
}

/** One thread's place in a control block: the slot and the generation it was given. */
export interface SlotRef {
  readonly slot: number;
  readonly gen: number;
}

/**
 * A slot reference no thread holds, ever: its flag index is the header's first word (the magic
 * number), whose LIVE bit is clear, so every operation that checks liveness does nothing on it.
 * For compiling those operations without running them (a thread's own slot at another
 * generation would not do: once the slot is freed while its thread still runs, as Deno's
 * terminate() lets it, the next generation is the slot's next thread).
 */
export const NEVER_LIVE: SlotRef = { slot: -1, gen: 0 };

/** The outcome of a request to interrupt a slot. */
export type InterruptOutcome = 'set' | 'already-set' | 'gone';

/**
 * Who is calling, in a block: its own slot there, or undefined for the group's root thread (the
 * main thread, or a plain worker), which has none and cannot die while the block lives.
 */
export type Caller = number | undefined;

/** Allocates a control block for `capacity` threads. */
export function createControlBlock(capacity: number): ControlBlock {
  const control = new SharedArrayBuffer((HEADER_WORDS + capacity * SLOT_WORDS) * 4);
  const reasons = new SharedArrayBuffer(capacity * REASON_BYTES);
  const names = new SharedArrayBuffer(capacity * NAME_BYTES);
  const block = openControlBlock({ control, reasons, names });
  Atomics.store(block.words, Header.magic, MAGIC);
  Atomics.store(block.words, Header.capacity, capacity);
  Atomics.store(block.words, Header.id, (Math.random() * 0x7fffffff) | 1);
  return block;
}

/** Views memory another thread created with {@link createControlBlock}. */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const openControlBlock = (function (
  memory: ControlMemory,
  atomics: AtomicOps = Atomics,
  now: () => number = () => performance.now(),
): ControlBlock {
  const words = new Int32Array(memory.control);
  const capacity = (words.length - HEADER_WORDS) / SLOT_WORDS;
  const reasons = new Uint8Array(memory.reasons);
  return { memory, words, reasons, names: new Uint16Array(memory.names), capacity, atomics, now };
});

/** True when `value` looks like {@link ControlMemory}. */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const isControlMemory = (function (value: unknown): value is ControlMemory {
  if (typeof value !== 'object' || value === null) return false;
  const { control, reasons, names } = value as Partial<ControlMemory>;
  return (
    control instanceof SharedArrayBuffer && reasons instanceof SharedArrayBuffer && names instanceof SharedArrayBuffer
  );
});

/** Numbers default thread names (`Thread-1`, `Thread-2`, …) across every thread of the group. */
export function nextThreadNumber(block: ControlBlock): number {
  return block.atomics.add(block.words, Header.threadCounter, 1) + 1;
}

/** A number for a new shared object of the group, unique in it. */
export function nextObjectId(block: ControlBlock): number {
  return block.atomics.add(block.words, Header.objectCounter, 1) + 1;
}

/**
 * The index in `words` of a slot's flag word, which the interruption signal's watcher awaits
 * (`sleep()` and the waits block on the park word: see `parkIndex`).
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const flagIndex = (function (slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
});

/**
 * The random id of the block whose memory this is: equal for two views of the same memory,
 * different for two blocks.
 */
export function memoryId(memory: ControlMemory): number {
  return Atomics.load(new Int32Array(memory.control, 0, HEADER_WORDS), Header.id);
}

/**
 * The index in `words` of the word a thread parks on while it waits for a lock, an event or a
 * queue: its slot's park word, or the header's for the group's root (`caller` undefined). An
 * interrupt of the slot bumps it, so a parked thread wakes for both.
 */
// Parenthesized (compiled with the module): every thread calls it as it starts (src/sleep.ts),
// src/bootstrap.ts says why. Not so the others every thread calls only on its way out
// (markFinished, markEnded, isLive): that raised each thread's memory by 0.1 MiB on Node 26. The
// thread's bootstrap compiles them as it first blocks (state.warmExitPath), off the way out.
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const parkIndex = (function (caller: Caller): number {
  return caller === undefined ? Header.rootPark : HEADER_WORDS + caller * SLOT_WORDS + Field.park;
});

/** Wakes the thread parked on `words[index]`, if any: bumps the word, then notifies it. */
export function unpark(atomics: AtomicOps, words: Int32Array, index: number): void {
  atomics.add(words, index, 1);
  atomics.notify(words, index);
}

// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const field = (function (slot: number, name: keyof typeof Field): number {
  return HEADER_WORDS + slot * SLOT_WORDS + Field[name];
});

/** The generation packed in a flag word. */
export function generationOf(flagWord: number): number {
  return flagWord >>> GEN_SHIFT;
}

/** The flag word of a live slot of generation `gen` with its flag clear. */
function liveWord(gen: number): number {
  return (gen << GEN_SHIFT) | LIVE;
}

/** Slots at or above this index have never been used: scans stop there. */
export function highWater(block: ControlBlock): number {
  return block.atomics.load(block.words, Header.highWater);
}

function raiseHighWater(block: ControlBlock, slots: number): void {
  const { atomics, words } = block;
  for (let seen = atomics.load(words, Header.highWater); seen < slots; ) {
    const prior = atomics.compareExchange(words, Header.highWater, seen, slots);
    if (prior === seen) return;
    seen = prior;
  }
}

function ownerValue(parent: Caller): number {
  return parent === undefined ? ROOT_OWNER : parent + 1;
}

/**
 * Claims a free slot for a new thread (the lowest free one, so scans stay short), recording its
 * parent so that the slots of threads that die with their parent can be reclaimed. Returns
 * undefined when every slot is taken.
 *
 * @param parent the calling thread's slot in this block, or undefined for the group's root.
 */
export function allocateSlot(block: ControlBlock, parent: Caller): SlotRef | undefined {
  const { atomics, words, capacity } = block;
  const owner = ownerValue(parent);
  for (let slot = 0; slot < capacity; slot++) {
    if (atomics.load(words, field(slot, 'owner')) !== 0) continue;
    // Raised before the claim, so a releaser scanning for this slot's owner cannot miss it.
    raiseHighWater(block, slot + 1);
    if (atomics.compareExchange(words, field(slot, 'owner'), 0, owner) !== 0) continue;
    atomics.store(words, field(slot, 'nativeThreadId'), -1);
    atomics.store(words, field(slot, 'criticalDepth'), 0);
    atomics.store(words, field(slot, 'pending'), 0);
    atomics.store(words, field(slot, 'ended'), 0);
    atomics.store(words, field(slot, 'finished'), 0);
    atomics.store(words, field(slot, 'outcome'), 0);
    atomics.store(words, field(slot, 'output'), 0);
    // A thread terminated while its watcher waited left its count behind.
    atomics.store(words, field(slot, 'watchers'), 0);
    atomics.store(words, field(slot, 'seen'), atomics.load(words, field(slot, 'interruptSeq')) - 1);
    block.names[slot * (NAME_UNITS + 1)] = 0; // the parent names it next (setSlotName)
    const free = atomics.load(words, flagIndex(slot));
    const gen = generationOf(free);
    // A free slot's word is exactly its next generation: nothing may set bits on it.
    if (atomics.compareExchange(words, flagIndex(slot), gen << GEN_SHIFT, liveWord(gen)) !== gen << GEN_SHIFT) {
      throw new Error(`graceful-threads: internal error: free slot ${slot} has flag word ${free}`);
    }
    // A shutdown waiting for the threads it knows must see this one too (a thread of it may wait
    // for it): after the slot is live, a move of the counter its wait compares, and a wake.
    atomics.add(words, Header.endCounter, 1);
    atomics.notify(words, Header.endCounter);
    return { slot, gen };
  }
  return undefined;
}

/**
 * Returns the slot of a thread that has ended (or never ran), and the slots of its descendants:
 * Node stops a worker's own workers with it, and their handles died with it. Finishes an
 * interrupt the thread was making when it died. Call only once the thread can run no more code.
 */
export function releaseSlot(block: ControlBlock, ref: SlotRef): void {
  const word = block.atomics.load(block.words, flagIndex(ref.slot));
  if (generationOf(word) !== ref.gen || (word & LIVE) === 0) return; // already released
  freeSlot(block, ref.slot);
}

function freeSlot(block: ControlBlock, slot: number): void {
  const { atomics, words } = block;
  // A thread that marked its end has bumped the end counter for it: once per thread, so that a
  // shutdown's target (see setEndTarget) is reached when its last thread ends, not before.
  const unmarked = atomics.load(words, field(slot, 'ended')) === 0;
  finishPendingInterrupt(block, slot);
  // Descendants first: while this slot is still owned, no thread can claim it and name it as
  // a parent, so every slot owned by it belongs to the ended thread.
  const owned = slot + 1;
  const scanned = highWater(block);
  for (let child = 0; child < scanned; child++) {
    if (child !== slot && atomics.load(words, field(child, 'owner')) === owned) freeSlot(block, child);
  }
  const index = flagIndex(slot);
  for (;;) {
    const word = atomics.load(words, index);
    const next = ((generationOf(word) + 1) & GEN_MASK) << GEN_SHIFT;
    if (atomics.compareExchange(words, index, word, next) === word) break;
  }
  atomics.notify(words, index);
  atomics.store(words, field(slot, 'criticalDepth'), 0);
  atomics.store(words, field(slot, 'nativeThreadId'), -1);
  // The reason claim is left alone: a live interrupter holding it releases it itself.
  atomics.store(words, field(slot, 'owner'), 0);
  if (unmarked) bumpEndCounter(atomics, words);
}

/**
 * Counts one more end in the group, and wakes the end counter's waiter only if the count has
 * reached its target: with 64 threads ending, the last one wakes the shutdown, not each (a wake
 * of a waiting event loop cost the waking thread 15-25 us, and the woken one a scan of every
 * slot). Sequentially consistent, against `setEndTarget` then a wait on the counter's value read
 * before the scan: a thread that reads an older target bumped the counter before the waiter set
 * this one, so the wait finds the counter moved and does not sleep.
 */
// markEnded has its own copy (every thread's way out).
function bumpEndCounter(atomics: AtomicOps, words: Int32Array): void {
  const count = atomics.add(words, Header.endCounter, 1) + 1;
  const target = atomics.load(words, Header.endTarget);
  if (target === 0 || ((count - target) | 0) >= 0) atomics.notify(words, Header.endCounter);
}

/**
 * Sets the end counter's value at which its waiter wants to be woken (0: at every bump): the value
 * it read before its first scan, plus the number of threads its scans have found running, each of
 * which bumps it once as it ends, after that read (a count wraps: compared as a 32-bit
 * difference). It only grows during a wait, so a thread that read an earlier one wakes the waiter
 * too. Only the group's root thread waits on the counter.
 */
export function setEndTarget(block: ControlBlock, target: number): void {
  block.atomics.store(block.words, Header.endTarget, target | 0);
}

/** Completes what a dead thread's interrupt of another slot may have left undone. */
function finishPendingInterrupt(block: ControlBlock, slot: number): void {
  const { atomics, words } = block;
  const pending = atomics.load(words, field(slot, 'pending'));
  if (pending === 0) return;
  const target = pending - 1;
  const claim = field(target, 'reasonClaim');
  atomics.compareExchange(words, claim, tokenOf(block, slot), 0);
  // It may have freed the claim or set the flag and died before waking whoever waits on them:
  // wake both (a spurious wake-up is harmless).
  atomics.notify(words, claim);
  atomics.notify(words, flagIndex(target));
  unpark(atomics, words, field(target, 'park'));
  atomics.store(words, field(slot, 'pending'), 0);
}

function tokenOf(block: ControlBlock, caller: Caller): number {
  return caller === undefined ? block.capacity + 1 : caller + 1;
}

/** True while the slot is held by a thread of that generation. */
export function isLive(block: ControlBlock, ref: SlotRef): boolean {
  const word = block.atomics.load(block.words, flagIndex(ref.slot));
  return (word & ~BITS) === liveWord(ref.gen);
}

/** Every live slot, with its current generation. */
export function* liveSlots(block: ControlBlock): Generator<SlotRef> {
  const scanned = highWater(block);
  for (let slot = 0; slot < scanned; slot++) {
    const word = block.atomics.load(block.words, flagIndex(slot));
    if ((word & LIVE) !== 0) yield { slot, gen: generationOf(word) };
  }
}

/**
 * Sets the slot's flag and wakes the thread if it waits on it. The reason (structured-clone
 * bytes, or undefined for none) is written before the flag is set and published with it.
 * Idempotent: the first reason stays until the flag is cleared.
 *
 * @param caller the calling thread's own slot in this block (undefined for the group's root), so
 *   that if it dies midway, whoever releases its slot can finish the wake-up.
 */
export function requestInterrupt(
  block: ControlBlock,
  ref: SlotRef,
  reason: Uint8Array | undefined,
  caller: Caller,
): InterruptOutcome {
  const { atomics, words } = block;
  // flagIndex(), liveWord() inline: all that runs before the wake-up is between interrupt() and
  // the thread running again, and each call made there cold costs about a microsecond.
  const index = HEADER_WORDS + ref.slot * SLOT_WORDS;
  const live = (ref.gen << GEN_SHIFT) | LIVE;
  const first = atomics.load(words, index);
  if ((first & ~BITS) !== live) return 'gone';
  if ((first & REQUESTED) !== 0) {
    wakeTarget(block, ref.slot, false); // in case the interrupter that set it died before waking it
    return 'already-set';
  }
  if (caller !== undefined) atomics.store(words, field(caller, 'pending'), ref.slot + 1);
  const claimed =
    reason !== undefined &&
    claimReasonArea(block, ref.slot, tokenOf(block, caller), caller === undefined ? ROOT_CLAIM_WAIT_MS : CLAIM_WAIT_MS);
  try {
    let written = false;
    // Everything before the notify is between interrupt() and the thread's wake-up: without a
    // reason (nothing was written or waited for since), the first look is the one above.
    for (let word = reason === undefined ? first : atomics.load(words, index); ; word = atomics.load(words, index)) {
      if ((word & ~BITS) !== live) return 'gone';
      if ((word & REQUESTED) !== 0) {
        wakeTarget(block, ref.slot, false);
        return 'already-set';
      }
      if (claimed && reason !== undefined && !written) {
        // Nobody reads the area while the flag is clear, and nobody else writes it while we
        // hold the claim: a stale writer of an earlier generation cannot publish (its CAS fails).
        block.reasons.set(reason, ref.slot * REASON_BYTES);
        atomics.store(words, field(ref.slot, 'reasonLength'), reason.length);
        written = true;
      }
      atomics.add(words, index + Field.interruptSeq, 1); // not field(): no lookup by name (the flag is the slot's first word)
      if (atomics.compareExchange(words, index, word, word | REQUESTED | (claimed ? HAS_REASON : 0)) === word) {
        // wakeTarget(block, ref.slot, true), inline: the thread wakes one call sooner. The flag
        // word's notify only when a watcher waits on it (see watchersIndex): a notify, even of a
        // word nobody waits on, takes the engine's lock of every wait, and the park word's
        // notify after it waited for that.
        if (atomics.load(words, index + Field.watchers) !== 0) atomics.notify(words, index);
        atomics.add(words, index + Field.park, 1);
        atomics.notify(words, index + Field.park);
        return 'set';
      }
    }
  } finally {
    if (claimed) {
      atomics.store(words, field(ref.slot, 'reasonClaim'), 0);
      atomics.notify(words, field(ref.slot, 'reasonClaim'));
    }
    if (caller !== undefined) atomics.store(words, field(caller, 'pending'), 0);
  }
}

/**
 * Wakes a slot's thread wherever it waits: its park word, where `sleep()` and the waits of
 * `src/waits/` block, and its flag word, which its interruption signal's watcher awaits. The park
 * word is bumped only by the interrupt that set the flag (whose death midway its pending record
 * covers); a repeat wake only notifies, so that an interrupter dying within it cannot leave the
 * word changed with nobody woken.
 *
 * The notify of the park word comes last: a thread it wakes returns from its wait only after
 * what its waker runs next (the engine's lock of every wait, which any Atomics.notify takes; on a
 * busy machine, the CPU). Measured against a bare wake on Node 20, a notify of a word nobody
 * waits on right after the waking one made the woken thread run 16 us later at p50, and 15 us of
 * work after it, 23 us later: a sleep() on the flag word, woken first, paid that.
 */
function wakeTarget(block: ControlBlock, slot: number, bump: boolean): void {
  const { atomics, words } = block;
  const flag = HEADER_WORDS + slot * SLOT_WORDS; // flagIndex(slot), parkIndex(slot): inline, fewer calls before the wake
  const park = flag + Field.park;
  atomics.notify(words, flag);
  if (bump) atomics.add(words, park, 1);
  atomics.notify(words, park);
}

/**
 * Takes the right to write a slot's reason area; waits (bounded) for another interrupter to
 * finish with it. False when it stays taken: the interrupt then carries no reason.
 */
function claimReasonArea(block: ControlBlock, slot: number, token: number, waitMs: number): boolean {
  const { atomics, words } = block;
  const claim = field(slot, 'reasonClaim');
  let deadline: number | undefined; // read the clock only if there is something to wait for
  for (;;) {
    const holder = atomics.compareExchange(words, claim, 0, token);
    if (holder === 0) return true;
    deadline ??= block.now() + waitMs;
    const left = deadline - block.now();
    if (left <= 0) return false;
    atomics.wait(words, claim, holder, left);
  }
}

/** True when the slot's flag is set. */
export function isInterruptRequested(block: ControlBlock, ref: SlotRef): boolean {
  const word = block.atomics.load(block.words, flagIndex(ref.slot));
  return (word & ~BITS) === liveWord(ref.gen) && (word & REQUESTED) !== 0;
}

/** The reason of the current interrupt: its sequence number and bytes (undefined: no reason). */
export interface StoredReason {
  readonly seq: number;
  readonly bytes: Uint8Array | undefined;
}

/**
 * Reads the reason of the slot's current interrupt: undefined when its flag is clear, and
 * 'unchanged' when its sequence number is `knownSeq` (the caller has it decoded already). Only
 * the slot's own thread calls it: nobody else clears the flag, so the area cannot change while
 * it is copied.
 */
// Parenthesized: see currentReason in src/current.ts.
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const readReason = (function (
  block: ControlBlock,
  ref: SlotRef,
  knownSeq?: number,
): StoredReason | 'unchanged' | undefined {
  const { atomics, words } = block;
  const word = atomics.load(words, flagIndex(ref.slot));
  if ((word & ~BITS) !== liveWord(ref.gen) || (word & REQUESTED) === 0) return undefined;
  const seq = atomics.load(words, field(ref.slot, 'interruptSeq'));
  if (seq === knownSeq) return 'unchanged';
  if ((word & HAS_REASON) === 0) return { seq, bytes: undefined };
  const length = atomics.load(words, field(ref.slot, 'reasonLength'));
  const start = ref.slot * REASON_BYTES;
  // Copy out of shared memory: once the flag is cleared, the next interrupt may overwrite it.
  return { seq, bytes: block.reasons.slice(start, start + length) };
});

/** Clears the slot's flag; returns whether it was set. */
export function clearInterruptFlag(block: ControlBlock, ref: SlotRef): boolean {
  const { atomics, words } = block;
  const index = flagIndex(ref.slot);
  for (;;) {
    const word = atomics.load(words, index);
    if ((word & ~BITS) !== liveWord(ref.gen) || (word & REQUESTED) === 0) return false;
    if (atomics.compareExchange(words, index, word, word & ~BITS) === word) return true;
  }
}

/**
 * Called by a thread as it ends (its last event, which a terminated thread does not reach):
 * records its exit code and wakes its parent, which may be blocked in `joinSync()`. `unread`:
 * it has written to its stdout or stderr, or failed, and its parent may not have read its last output
 * or its failure yet (see {@link endedUnread}).
 */
export function markEnded(block: ControlBlock, ref: SlotRef, exitCode: number, unread = false): void {
  const { atomics, words } = block;
  if (!isLive(block, ref)) return;
  if (unread) atomics.store(words, field(ref.slot, 'output'), 1);
  atomics.store(words, field(ref.slot, 'ended'), (exitCode | 0) + 1);
  const owner = atomics.load(words, field(ref.slot, 'owner'));
  if (owner !== 0) unpark(atomics, words, parkIndex(owner === ROOT_OWNER ? undefined : owner - 1));
  // bumpEndCounter, inline: compiled with this function as the thread first blocks, not on its
  // way out (see parkIndex).
  const count = atomics.add(words, Header.endCounter, 1) + 1;
  const target = atomics.load(words, Header.endTarget);
  if (target === 0 || ((count - target) | 0) >= 0) atomics.notify(words, Header.endCounter);
}

/**
 * Called by a thread once its target has settled (its `finally` blocks have run) and its outcome
 * is posted: a shutdown that cannot let the thread exit (the main thread blocked in the process's
 * `'exit'`, which the thread's pending output then waits for) counts it as done.
 */
export function markFinished(block: ControlBlock, ref: SlotRef, how: 'finished' | 'output-in-flight' | 'idle'): void {
  const { atomics, words } = block;
  if (!isLive(block, ref)) return;
  atomics.store(words, field(ref.slot, 'finished'), how === 'finished' ? 1 : how === 'output-in-flight' ? 2 : 3);
  const owner = atomics.load(words, field(ref.slot, 'owner'));
  // A parent blocked in joinSync() reads it as an end when output is in flight (see there).
  if (how === 'output-in-flight' && owner !== 0) {
    unpark(atomics, words, parkIndex(owner === ROOT_OWNER ? undefined : owner - 1));
  }
  // Only a shutdown in the process's 'exit' counts a finished thread as ended; any other would
  // wake for nothing (twice per thread, with markEnded). The store above comes before this load,
  // and that shutdown marks the group exiting before it scans: it sees one or the other.
  if (groupExiting(block)) bumpEndCounter(atomics, words);
}

/** Undoes {@link markFinished}: a pool's worker that was idle has a task (set by the pool as it sends one, and by the worker). */
export function markBusy(block: ControlBlock, ref: SlotRef): void {
  block.atomics.store(block.words, field(ref.slot, 'finished'), 0);
}

/**
 * Whether a live slot's thread has finished its target (see {@link markFinished}): 'finished',
 * 'output-in-flight' (finished, and output it printed waits for the parent to read it, so the
 * thread cannot exit before the parent runs its event loop), 'idle' (a pool's worker between
 * tasks), or false.
 */
export function targetFinished(block: ControlBlock, ref: SlotRef): 'finished' | 'output-in-flight' | 'idle' | false {
  if (!isLive(block, ref)) return false;
  const finished = block.atomics.load(block.words, field(ref.slot, 'finished'));
  return (['finished', 'output-in-flight', 'idle'] as const)[finished - 1] ?? false;
}

/**
 * Called by a shutdown in the process's `'exit'` (not a signal's, whose threads end as Node ends
 * them, their event loops emptied), before it interrupts the threads: a thread whose target then
 * finishes need not wait for what its event loop would still do, which that exit cuts off anyway
 * (see `groupExiting`).
 */
export function markGroupExiting(block: ControlBlock): void {
  block.atomics.store(block.words, Header.exiting, 1);
}

/** Whether a shutdown in the process's `'exit'` has begun in the group. */
// Every thread asks on its way out: compiled as it first blocks, with markEnded (see parkIndex).
export function groupExiting(block: ControlBlock): boolean {
  return block.atomics.load(block.words, Header.exiting) === 1;
}

/** Whether threads the slot's thread started hold slots still (they run, or their end is unread). */
export function hasLiveChildren(block: ControlBlock, ref: SlotRef): boolean {
  const { atomics, words } = block;
  const owned = ref.slot + 1;
  const scanned = highWater(block);
  for (let child = 0; child < scanned; child++) {
    if (atomics.load(words, field(child, 'owner')) === owned) return true;
  }
  return false;
}

/**
 * The index in `words` of the group's end counter, bumped once whenever a thread of the group ends
 * (see `bumpEndCounter`): a shutdown waits on it for every thread, nested ones included.
 */
export const END_COUNTER_INDEX: number = Header.endCounter;

/** What a shutdown reports about a live slot's thread. */
export interface SlotReport {
  readonly name: string;
  readonly threadId: number;
  readonly inCriticalSection: boolean;
  /** It has seen its flag set since the current interrupt (through a check or a wait). */
  readonly checkedSinceInterrupt: boolean;
}

/** Reads a live slot's report; undefined once the slot's thread is gone. */
export function readSlotReport(block: ControlBlock, ref: SlotRef): SlotReport | undefined {
  const { atomics, words } = block;
  const threadId = atomics.load(words, field(ref.slot, 'nativeThreadId'));
  const inCriticalSection = atomics.load(words, field(ref.slot, 'criticalDepth')) > 0;
  const checkedSinceInterrupt =
    atomics.load(words, field(ref.slot, 'seen')) === atomics.load(words, field(ref.slot, 'interruptSeq'));
  const base = ref.slot * (NAME_UNITS + 1);
  const length = Math.min(block.names[base]!, NAME_UNITS);
  const name = String.fromCharCode(...block.names.subarray(base + 1, base + 1 + length));
  // Read while the slot may be freed and reused: only a still-live slot's fields are its thread's.
  if (!isLive(block, ref)) return undefined;
  return { name, threadId, inCriticalSection, checkedSinceInterrupt };
}

/** A slot's thread id and name as they were at one moment: see {@link copySlotIdentity}. */
export interface SlotIdentity {
  readonly threadId: number;
  /** The slot's name area, copied (read with {@link identityName}). */
  readonly nameUnits: Uint16Array;
}

/**
 * Copies a slot's thread id and name, to read once the slot may have been freed: valid when the
 * slot was live at the same generation both before and after the copy (an interrupt that finds it
 * so proves it), as nothing rewrites them until the slot is freed.
 */
export function copySlotIdentity(block: ControlBlock, slot: number): SlotIdentity {
  const base = slot * (NAME_UNITS + 1);
  return {
    threadId: block.atomics.load(block.words, field(slot, 'nativeThreadId')),
    nameUnits: block.names.slice(base, base + NAME_UNITS + 1),
  };
}

/** The name a {@link SlotIdentity} holds. */
export function identityName(identity: SlotIdentity): string {
  const length = Math.min(identity.nameUnits[0]!, NAME_UNITS);
  return String.fromCharCode(...identity.nameUnits.subarray(1, 1 + length));
}

/** Records a slot's thread name (its first 63 UTF-16 code units), for {@link readSlotReport}. */
export function setSlotName(block: ControlBlock, ref: SlotRef, name: string): void {
  const base = ref.slot * (NAME_UNITS + 1);
  const length = Math.min(name.length, NAME_UNITS);
  for (let i = 0; i < length; i++) block.names[base + 1 + i] = name.charCodeAt(i);
  block.names[base] = length;
}

/**
 * The index of the slot's `seen` word, where its own thread records that it has seen its flag set
 * (a check returned true, a wait woke interrupted): the current interrupt's `interruptSeq`, for
 * {@link readSlotReport}.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const seenIndex = (function (slot: number): number {
  return field(slot, 'seen');
});

/**
 * Called by a thread whose target has ended on an interrupt, before it marks itself finished: its
 * outcome, for its parent to read with {@link endedOnInterrupt} before it frees the slot.
 */
export function markEndedOnInterrupt(block: ControlBlock, ref: SlotRef): void {
  if (isLive(block, ref)) block.atomics.store(block.words, field(ref.slot, 'outcome'), 1);
}

/** Whether a live slot's thread has recorded that its target ended on an interrupt. */
export function endedOnInterrupt(block: ControlBlock, ref: SlotRef): boolean {
  return isLive(block, ref) && block.atomics.load(block.words, field(ref.slot, 'outcome')) === 1;
}

/**
 * Whether a live slot's thread has ended after writing to its stdout or stderr, or after a failure
 * (see {@link markEnded}): what it printed last, or its failure, may still wait in its parent's
 * event loop (a worker's output and end cross to its parent as messages).
 */
export function endedUnread(block: ControlBlock, ref: SlotRef): boolean {
  return endedExitCode(block, ref) !== undefined && block.atomics.load(block.words, field(ref.slot, 'output')) === 1;
}

/** The exit code a live slot's thread recorded as it ended, or undefined while it runs. */
export function endedExitCode(block: ControlBlock, ref: SlotRef): number | undefined {
  if (!isLive(block, ref)) return undefined;
  const ended = block.atomics.load(block.words, field(ref.slot, 'ended'));
  return ended === 0 ? undefined : ended - 1;
}

/** Records the Node thread id of the slot's thread, for reports. */
export function setNativeThreadId(block: ControlBlock, ref: SlotRef, id: number): void {
  block.atomics.store(block.words, field(ref.slot, 'nativeThreadId'), id);
}

/** Mirrors a thread's critical-section depth into shared memory, for reports. */
export function setCriticalDepth(block: ControlBlock, ref: SlotRef, depth: number): void {
  block.words[field(ref.slot, 'criticalDepth')] = depth;
}

/**
 * The index of the slot's `watchers` word: a thread that waits on its own flag word (the
 * interruption signal's watcher, with `Atomics.waitAsync`) adds 1 to it before it reads the
 * word it will wait for, and takes 1 off once that wait has ended. An interrupt sets the flag,
 * then reads the count, and notifies the flag word only when it is not 0: both sequentially
 * consistent, so either the interrupt sees the watcher counted, or the watcher's read (and the
 * wait's own compare, which comes after it) sees the flag set and does not sleep.
 */
export function watchersIndex(slot: number): number {
  return field(slot, 'watchers');
}

/** The index of the slot's `interruptSeq` word (the thread notes the interrupt it has seen: see `seen`). */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const interruptSeqIndex = (function (slot: number): number {
  return field(slot, 'interruptSeq');
});

/** @internal For tests: the raw words of a slot, to check invariants. */
export function slotWords(block: ControlBlock, slot: number): Readonly<Record<keyof typeof Field, number>> {
  const out = {} as Record<keyof typeof Field, number>;
  for (const name of Object.keys(Field) as (keyof typeof Field)[]) {
    out[name] = block.atomics.load(block.words, field(slot, name));
  }
  return out;
}
