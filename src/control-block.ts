/**
 * The shared control block: the layout of the memory that holds every thread's interruption flag,
 * and the atomic operations on it. Any thread holding the block can interrupt any slot in it and
 * wake a thread that waits on its flag with `Atomics.wait`.
 *
 * Memory: a header (magic, capacity, allocation hint, thread counter), then one 64-byte slot (its own cache line) per thread, so a thread polling
 * its flag never shares a line with another thread's writes. Interrupt reasons travel in a second
 * buffer, a fixed area per slot, as structured-clone bytes.
 *
 * The flag word packs a generation with two bits: `gen << 2 | REASON_READY | REQUESTED`. A slot is
 * reused after its thread ends, with the next generation, so a stale handle's compare-and-swap on
 * the old generation fails instead of interrupting a stranger.
 */

/** Flag bit: interruption requested (what `interruptionRequested()` reads). */
export const REQUESTED = 1;
/** Flag bit: the reason bytes are written and may be read. */
export const REASON_READY = 2;
const BITS = REQUESTED | REASON_READY;
const GEN_MASK = 0x1fffffff;

/** Bytes per slot for the reason of an interrupt, as structured-clone bytes. */
export const REASON_BYTES = 4096;

const HEADER_WORDS = 16;
const SLOT_WORDS = 16;
const MAGIC = 0x67746872; // "gthr"

/** Word offsets inside a slot. */
const Field = {
  flag: 0,
  lifecycle: 1,
  parentSlot: 2,
  parentGen: 3,
  nativeThreadId: 4,
  criticalDepth: 5,
  reasonLength: 6,
  interruptSeq: 7,
} as const;

const FREE = 0;
const LIVE = 1;
/** Taken, its fields being written; a descendant scan must not mistake it for a live child. */
const CLAIMING = 2;

/** How long a reader waits for a reason another thread is writing (a memcpy of ≤ 4 KiB). */
const WRITER_WAIT_MS = 1000;

/** The shared memory of a control block, as sent to another thread. */
export interface ControlMemory {
  readonly control: SharedArrayBuffer;
  readonly reasons: SharedArrayBuffer;
}

/** A control block: views over its shared memory. */
export interface ControlBlock {
  readonly memory: ControlMemory;
  readonly words: Int32Array;
  readonly reasons: Uint8Array;
  readonly capacity: number;
}

/** One thread's place in a control block: the slot and the generation it was given. */
export interface SlotRef {
  readonly slot: number;
  readonly gen: number;
}

/** The outcome of a request to interrupt a slot. */
export type InterruptOutcome = 'set' | 'already-set' | 'gone';

/** Allocates a control block for `capacity` threads. */
export function createControlBlock(capacity: number): ControlBlock {
  const control = new SharedArrayBuffer((HEADER_WORDS + capacity * SLOT_WORDS) * 4);
  const reasons = new SharedArrayBuffer(capacity * REASON_BYTES);
  const block = openControlBlock({ control, reasons });
  Atomics.store(block.words, 0, MAGIC);
  Atomics.store(block.words, 1, capacity);
  return block;
}

/** Views memory another thread created with {@link createControlBlock}. */
export function openControlBlock(memory: ControlMemory): ControlBlock {
  const words = new Int32Array(memory.control);
  const capacity = (words.length - HEADER_WORDS) / SLOT_WORDS;
  return { memory, words, reasons: new Uint8Array(memory.reasons), capacity };
}

/** True when `value` looks like {@link ControlMemory}. */
export function isControlMemory(value: unknown): value is ControlMemory {
  if (typeof value !== 'object' || value === null) return false;
  const { control, reasons } = value as Partial<ControlMemory>;
  return control instanceof SharedArrayBuffer && reasons instanceof SharedArrayBuffer;
}

/** Numbers default thread names (`Thread-1`, `Thread-2`, …) across every thread of the process. */
export function nextThreadNumber(block: ControlBlock): number {
  return Atomics.add(block.words, 3, 1) + 1;
}

/** The index in `words` of a slot's flag word: what `Atomics.wait` sleeps on. */
export function flagIndex(slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
}

function field(slot: number, name: keyof typeof Field): number {
  return flagIndex(slot) + Field[name];
}

/** The generation packed in a flag word. */
export function generationOf(flagWord: number): number {
  return flagWord >>> 2;
}

/**
 * Claims a free slot for a new thread, recording its parent so that the slots of threads that
 * die with their parent can be reclaimed. Returns undefined when every slot is taken.
 */
export function allocateSlot(block: ControlBlock, parent: SlotRef | undefined): SlotRef | undefined {
  const { words, capacity } = block;
  const start = Atomics.load(words, 2) % capacity;
  for (let i = 0; i < capacity; i++) {
    const slot = (start + i) % capacity;
    if (Atomics.compareExchange(words, field(slot, 'lifecycle'), FREE, CLAIMING) !== FREE) continue;
    Atomics.store(words, 2, slot + 1);
    Atomics.store(words, field(slot, 'parentSlot'), parent === undefined ? -1 : parent.slot);
    Atomics.store(words, field(slot, 'parentGen'), parent === undefined ? -1 : parent.gen);
    Atomics.store(words, field(slot, 'nativeThreadId'), -1);
    Atomics.store(words, field(slot, 'criticalDepth'), 0);
    Atomics.store(words, field(slot, 'lifecycle'), LIVE);
    return { slot, gen: generationOf(Atomics.load(words, flagIndex(slot))) };
  }
  return undefined;
}

/**
 * Returns a slot whose thread has ended, and the slots of its descendants: Node stops a worker's
 * own workers before the worker's exit is reported, and their handles died with it.
 */
export function releaseSlot(block: ControlBlock, ref: SlotRef): void {
  const { words } = block;
  const index = flagIndex(ref.slot);
  for (;;) {
    const word = Atomics.load(words, index);
    if (generationOf(word) !== ref.gen) return; // already released
    // An interrupter between its two steps finishes first, so its bytes land in this
    // generation's reason area, not the next thread's. A writer terminated mid-copy never
    // finishes: after the timeout the slot is taken back regardless.
    if ((word & BITS) === REQUESTED && Atomics.wait(words, index, word, WRITER_WAIT_MS) !== 'timed-out') continue;
    const next = ((ref.gen + 1) & GEN_MASK) << 2;
    if (Atomics.compareExchange(words, index, word, next) === word) break;
  }
  Atomics.notify(words, index);
  Atomics.store(words, field(ref.slot, 'parentSlot'), -1);
  Atomics.store(words, field(ref.slot, 'parentGen'), -1);
  Atomics.store(words, field(ref.slot, 'lifecycle'), FREE);
  // A slot its parent was still claiming (CLAIMING) when the parent was stopped counts too.
  for (let slot = 0; slot < block.capacity; slot++) {
    if (
      Atomics.load(words, field(slot, 'lifecycle')) !== FREE &&
      Atomics.load(words, field(slot, 'parentSlot')) === ref.slot &&
      Atomics.load(words, field(slot, 'parentGen')) === ref.gen
    ) {
      releaseSlot(block, { slot, gen: generationOf(Atomics.load(words, flagIndex(slot))) });
    }
  }
}

/** True while the slot is held by a thread of that generation. */
export function isLive(block: ControlBlock, ref: SlotRef): boolean {
  return (
    Atomics.load(block.words, field(ref.slot, 'lifecycle')) === LIVE &&
    generationOf(Atomics.load(block.words, flagIndex(ref.slot))) === ref.gen
  );
}

/** Every live slot, with its current generation. */
export function* liveSlots(block: ControlBlock): Generator<SlotRef> {
  for (let slot = 0; slot < block.capacity; slot++) {
    if (Atomics.load(block.words, field(slot, 'lifecycle')) !== LIVE) continue;
    yield { slot, gen: generationOf(Atomics.load(block.words, flagIndex(slot))) };
  }
}

/**
 * Sets the slot's flag, publishing `reason` (structured-clone bytes, or undefined for none) before
 * the flag says it can be read, then wakes the thread if it waits on its flag. Idempotent: the
 * first reason stays until the flag is cleared.
 */
export function requestInterrupt(block: ControlBlock, ref: SlotRef, reason: Uint8Array | undefined): InterruptOutcome {
  const { words } = block;
  const index = flagIndex(ref.slot);
  const clear = ref.gen << 2;
  const word = Atomics.compareExchange(words, index, clear, clear | REQUESTED);
  if (word !== clear) return generationOf(word) === ref.gen ? 'already-set' : 'gone';
  // From here the thread sees the request; a reader that needs the reason waits for the bit below.
  if (reason === undefined) {
    Atomics.store(words, field(ref.slot, 'reasonLength'), -1);
  } else {
    block.reasons.set(reason, ref.slot * REASON_BYTES);
    Atomics.store(words, field(ref.slot, 'reasonLength'), reason.length);
  }
  Atomics.add(words, field(ref.slot, 'interruptSeq'), 1);
  Atomics.compareExchange(words, index, clear | REQUESTED, clear | REQUESTED | REASON_READY);
  Atomics.notify(words, index);
  return 'set';
}

/** True when the slot's flag is set. */
export function isInterruptRequested(block: ControlBlock, ref: SlotRef): boolean {
  const word = Atomics.load(block.words, flagIndex(ref.slot));
  return generationOf(word) === ref.gen && (word & REQUESTED) !== 0;
}

/**
 * Waits (bounded) until a reason being written is readable; returns the flag word. A writer
 * still not done after the wait was terminated mid-copy: the interrupt then stands without a
 * reason, marked ready so that no later reader waits again.
 */
function settledWord(block: ControlBlock, ref: SlotRef): number {
  const index = flagIndex(ref.slot);
  let deadline: number | undefined; // read the clock only if there is something to wait for
  for (;;) {
    const word = Atomics.load(block.words, index);
    if ((word & BITS) !== REQUESTED || generationOf(word) !== ref.gen) return word;
    deadline ??= performance.now() + WRITER_WAIT_MS;
    const left = deadline - performance.now();
    if (left <= 0) {
      Atomics.store(block.words, field(ref.slot, 'reasonLength'), -1);
      Atomics.compareExchange(block.words, index, word, word | REASON_READY);
      return Atomics.load(block.words, index);
    }
    Atomics.wait(block.words, index, word, left);
  }
}

/** The reason of the current interrupt: its sequence number and bytes (undefined: no reason). */
export interface StoredReason {
  readonly seq: number;
  readonly bytes: Uint8Array | undefined;
}

/**
 * Reads the reason of the slot's current interrupt: undefined when its flag is clear, and
 * 'unchanged' when its sequence number is `knownSeq` (the caller has it decoded already).
 */
export function readReason(
  block: ControlBlock,
  ref: SlotRef,
  knownSeq?: number,
): StoredReason | 'unchanged' | undefined {
  const word = settledWord(block, ref);
  if (generationOf(word) !== ref.gen || (word & REQUESTED) === 0) return undefined;
  const seq = Atomics.load(block.words, field(ref.slot, 'interruptSeq'));
  if (seq === knownSeq) return 'unchanged';
  const length = Atomics.load(block.words, field(ref.slot, 'reasonLength'));
  if (length < 0) return { seq, bytes: undefined };
  const start = ref.slot * REASON_BYTES;
  // Copy out of shared memory: the next interrupt may overwrite the area.
  return { seq, bytes: block.reasons.slice(start, start + length) };
}

/** Clears the slot's flag; returns whether it was set. */
export function clearInterruptFlag(block: ControlBlock, ref: SlotRef): boolean {
  const index = flagIndex(ref.slot);
  for (;;) {
    const word = settledWord(block, ref);
    if (generationOf(word) !== ref.gen || (word & REQUESTED) === 0) return false;
    if (Atomics.compareExchange(block.words, index, word, ref.gen << 2) === word) return true;
  }
}

/** Records the Node thread id of the slot's thread, for reports. */
export function setNativeThreadId(block: ControlBlock, ref: SlotRef, id: number): void {
  Atomics.store(block.words, field(ref.slot, 'nativeThreadId'), id);
}

/** Mirrors a thread's critical-section depth into shared memory, for reports. */
export function setCriticalDepth(block: ControlBlock, ref: SlotRef, depth: number): void {
  block.words[field(ref.slot, 'criticalDepth')] = depth;
}
