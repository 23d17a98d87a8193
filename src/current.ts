/**
 * The in-thread API: what code running in a thread (the main thread included) calls about its
 * own interruption flag. Uses only `SharedArrayBuffer`, `Atomics` and `AbortController`.
 */

import {
  flagIndex,
  HAS_REASON,
  interruptSeqIndex,
  isInterruptRequested,
  REQUESTED,
  readReason,
  seenIndex,
  setCriticalDepth,
} from './control-block.js';
import { giveReason, isThreadInterruptedError, ThreadInterruptedError } from './errors.js';
import { heavy } from './lazy.js';
import { rare } from './lazy-rare.js';
import { decodeStringReason } from './reason-text.js';
import { flagRead, isMainThread } from './runtime/node.js';
import { callerIn, state } from './thread-state.js';

// This thread's flag word is words[index]; neither ever changes.
const words = state.block.words;
const index = flagIndex(state.self.slot);

/**
 * Builds the flag check as a closure over `const` copies. A bundler turns a module's top-level
 * `const` into `var` (esbuild does), and V8 must then reload a `var` and its bounds on every
 * call; the `const`s of a closure's context are folded into the caller's optimized loop once it
 * inlines the call (measured with npm run bench: 0.9 ns a call instead of 1.4 on Node 24).
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const flagCheck = (function (flagWords: Int32Array, flagWord: number, onSeen: () => void): () => boolean {
  const ownWords = flagWords;
  const ownIndex = flagWord;
  const bit = REQUESTED;
  const seen = onSeen;
  return function interruptionRequested(): boolean {
    // A plain (unordered) read, not Atomics.load (about 4 ns more here): the goal is well under 1 ns.
    // The ECMAScript memory model would let an engine hoist such a read out of a loop. V8 does
    // not: TurboFan's load elimination never tracked typed-array loads, and Turboshaft builds
    // every ArrayBuffer element load as not load-eliminable (LoadArrayBufferElement in
    // src/compiler/turboshaft/assembler.h). test/memory-model.test.ts checks it on every
    // supported Node and on Deno, in a loop compiled by TurboFan. An engine that hoists gets
    // another check, as its runtime adapter says (`flagRead`): JavaScriptCore (Bun)
    // hoistSafeFlagCheck, SpiderMonkey (Firefox, test/browser/) atomicFlagCheck. Every other
    // path (the reason, sleep, the signal) uses Atomics.
    if ((ownWords[ownIndex]! & bit) === 0) return false;
    seen(); // off the hot path: a shutdown report says whether the thread looked
    return true;
  };
});

/** How many calls of {@link hoistSafeFlagCheck} may pass on a plain read alone (about 1 us of polling). */
const ATOMIC_CHECK_PERIOD = 1024;

/**
 * The flag check for an engine that may hoist the plain read out of a loop (JavaScriptCore:
 * Bun): the plain read still answers while the flag is clear, and every
 * {@link ATOMIC_CHECK_PERIOD}th call reads it with `Atomics.load`, which no engine may hoist, so
 * a loop sees an interrupt within that many calls. Once seen set, every call reads it so until it
 * is cleared, so that the check keeps answering true. The countdown lives in a one-element
 * `Int32Array`: on Bun 1.4 that costs nothing measurable over a written boolean, where a closure
 * variable costs +0.7 ns and `Atomics.load` on every call +4.5 ns (npm run bench on Bun).
 */
function hoistSafeFlagCheck(ownWords: Int32Array, ownIndex: number, seen: () => void): () => boolean {
  const bit = REQUESTED;
  const left = new Int32Array(1);
  left[0] = ATOMIC_CHECK_PERIOD;
  return function interruptionRequested(): boolean {
    if ((ownWords[ownIndex]! & bit) === 0) {
      if (--left[0]! !== 0) return false;
      left[0] = ATOMIC_CHECK_PERIOD;
      if ((Atomics.load(ownWords, ownIndex) & bit) === 0) return false;
      left[0] = 1;
    }
    seen();
    return true;
  };
}

/**
 * The flag check for an engine that hoists a plain read of shared memory out of a loop
 * (SpiderMonkey does: a loop polling the plain check never stopped in Firefox 153, see
 * test/browser/): every call reads with `Atomics.load`, which no engine may hoist.
 */
function atomicFlagCheck(flagWords: Int32Array, flagWord: number, onSeen: () => void): () => boolean {
  const ownWords = flagWords;
  const ownIndex = flagWord;
  const bit = REQUESTED;
  const seen = onSeen;
  return function interruptionRequested(): boolean {
    if ((Atomics.load(ownWords, ownIndex) & bit) === 0) return false;
    seen();
    return true;
  };
}

/**
 * Whether the calling thread has been asked to stop. Does not clear the flag and never throws,
 * so it is what a loop polls: `while (!interruptionRequested()) step()`. Costs about as much as
 * reading a local boolean.
 *
 * Inside a critical section it still tells the truth.
 *
 * @example
 * ```ts
 * export default function crunch(items: number[]) {
 *   let sum = 0;
 *   for (const item of items) {
 *     if (interruptionRequested()) break;
 *     sum += item;
 *   }
 *   return sum;
 * }
 * ```
 */
export const interruptionRequested: () => boolean = (
  flagRead === 'plain' ? flagCheck : flagRead === 'atomic' ? atomicFlagCheck : hoistSafeFlagCheck
)(words, index, noteSeen);

const seqWord = interruptSeqIndex(state.self.slot);
const seenWord = seenIndex(state.self.slot);

/**
 * Records that this thread has seen its current interrupt (for shutdown reports). It runs between
 * an interrupt's wake-up and the throw: three atomics on indices computed once, no calls.
 */
function noteSeen(): void {
  const seq = Atomics.load(words, seqWord);
  // Written once per interrupt: a loop polling its set flag during cleanup writes nothing.
  if (Atomics.load(words, seenWord) !== seq) Atomics.store(words, seenWord, seq);
}

/**
 * An interruption point: throws {@link ThreadInterruptedError} when the calling thread's flag is
 * set and it is not inside a critical section. The flag stays set, so every later check throws
 * again until {@link clearInterrupt} is called.
 *
 * @example
 * ```ts
 * for (const file of files) {
 *   checkInterrupt(); // stop between files, running every finally on the way out
 *   await convert(file);
 * }
 * ```
 */
export function checkInterrupt(): void {
  if (interruptionRequested() && state.criticalDepth === 0) {
    throw interruptedError();
  }
}

/**
 * @internal True when an interruption point should throw now: the flag is set (read with
 * `Atomics.load`, after a wake-up) and no critical section is open.
 */
export function interruptPending(): boolean {
  return (Atomics.load(words, index) & REQUESTED) !== 0 && state.criticalDepth === 0;
}

/**
 * Clears the calling thread's flag and returns whether it was set: the way to handle an
 * interruption and carry on (Java's `Thread.interrupted()`). Nothing else clears the flag.
 *
 * @example
 * ```ts
 * try {
 *   sleep(1000);
 * } catch (e) {
 *   if (!(e instanceof ThreadInterruptedError)) throw e;
 *   clearInterrupt(); // handled: keep serving
 * }
 * ```
 */
export function clearInterrupt(): boolean {
  const wasSet = rare().clearInterruptFlag(state.block, state.self);
  state.reasonCache = undefined;
  state.asyncThrown = false;
  // An aborted signal cannot be reset; the next interruptionSignal() call makes a fresh one.
  if (state.signalController?.signal.aborted === true) state.signalController = undefined;
  return wasSet;
}

/**
 * @internal What a pool worker leaves behind of one task before the next: no open critical
 * section, no decoded reason, and no interruption signal (the next `interruptionSignal()` is a
 * fresh one; the retired one never aborts, so the last task's listeners cannot fire for the next).
 * The flag itself is cleared by the pool as it dispatches the next task: a cancel sent after that
 * must stay set.
 */
export function resetForNextTask(): void {
  if (state.criticalDepth !== 0) {
    state.criticalDepth = 0;
    setCriticalDepth(state.block, state.self, 0);
  }
  state.reasonCache = undefined;
  if (state.signalController !== undefined) {
    state.signalController = undefined;
    // Its watcher may wait on the flag word: wake it, so that it sees it is retired and ends.
    Atomics.notify(words, index);
  }
}

/** @internal The error an interruption point throws now, carrying the current reason. */
// It runs first on the way out of an interrupted thread, where each function V8 compiles on its
// first call costs 10-50 µs: parenthesized, it is compiled with the module instead (a function
// expression: Node 20's V8 compiles a parenthesized arrow function on its first call all the
// same), and an interrupt without a reason (the flag word says so) calls nothing else to read one.
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const interruptedError = (function (): ThreadInterruptedError {
  noteSeen();
  return new ThreadInterruptedError((Atomics.load(words, index) & HAS_REASON) === 0 ? undefined : currentReason());
});

/**
 * @internal What a wait throws once an interrupt has woken it: `ahead`, the error it built before
 * it blocked (see `sleep()`), given the interrupt's reason if it has one; `ahead` undefined (it
 * never blocked): one built now.
 */
// Parenthesized as interruptedError is: compiled with the module, not on a thread's first wake.
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const interruptedErrorAfterWait = (function (
  ahead: ThreadInterruptedError | undefined,
): ThreadInterruptedError {
  if (ahead === undefined) return interruptedError();
  // noteSeen(), inline: one call fewer between the wake-up and the throw.
  const seq = Atomics.load(words, seqWord);
  if (Atomics.load(words, seenWord) !== seq) Atomics.store(words, seenWord, seq);
  // A shutdown's interrupt has a reason ('SIGINT'...): the error built ahead takes it, rather than
  // a new one capturing its stack on the way out of every thread.
  return (Atomics.load(words, index) & HAS_REASON) === 0 ? ahead : giveReason(ahead, currentReason());
});

let interruptPathWarm = false;

/**
 * Builds one {@link ThreadInterruptedError} and drops it, once per thread, just before the
 * thread first blocks (in `sleep()` or a wait). V8 compiles the class on its first construction,
 * and the thread's first error of any kind starts its stack-trace machinery: 50-80 us in a fresh
 * thread, which would otherwise fall between an interrupt and the thread's reaction to it (and
 * so between `interrupt()` and `join()` settling). Done while the thread has nothing else to do;
 * nothing is thrown, and nothing reads the error's stack.
 */
export function warmInterruptPath(): void {
  if (interruptPathWarm) return;
  interruptPathWarm = true;
  // Given a reason as a shutdown's wake-up gives one (no reason: its message stays the same).
  isThreadInterruptedError(giveReason(new ThreadInterruptedError(), undefined));
  // And what an interruption point calls first (V8 compiles it on that call): marks nothing new,
  // as no interrupt has come yet (a later one has a new sequence number).
  noteSeen();
  // And what the thread runs on its way out, after the target (src/bootstrap.ts).
  state.warmExitPath?.();
}

// Parenthesized, as the reader and decoder it calls: V8 compiles them with the module, rather than
// on the way out of a thread interrupted with a reason (50-100 us each there, measured on Node 26).
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const currentReason = (function (): unknown {
  const stored = readReason(state.block, state.self, state.reasonCache?.seq);
  if (stored === undefined) return undefined;
  if (stored === 'unchanged') return state.reasonCache?.value;
  const value =
    stored.bytes === undefined ? undefined : (decodeStringReason(stored.bytes) ?? heavy().decodeValue(stored.bytes));
  state.reasonCache = { seq: stored.seq, value };
  return value;
});

/** The calling thread, as {@link currentThread} describes it. */
export interface CurrentThread {
  /** The thread's name: the `name` option it was started with, `'main'` for the main thread. */
  readonly name: string;
  /** Node's thread id (`worker_threads.threadId`); 0 in the main thread. */
  readonly threadId: number;
  /** True in the process's main thread. */
  readonly isMainThread: boolean;
  /** The calling thread's flag, read without clearing it. */
  readonly interrupted: boolean;
  /**
   * Sets the calling thread's own flag: how code that caught an interruption and cannot handle
   * it restores the request for its caller (Java's `Thread.currentThread().interrupt()`).
   */
  interrupt(reason?: unknown): void;
}

const current: CurrentThread = Object.freeze({
  name: state.name,
  threadId: state.threadId,
  isMainThread,
  get interrupted(): boolean {
    return isInterruptRequested(state.block, state.self);
  },
  interrupt(reason?: unknown): void {
    // Without a reason there is nothing to clone, and the codec stays unloaded.
    const bytes = reason === undefined ? undefined : heavy().encodeReason(reason);
    const { abortSignalIfInterrupted, requestInterrupt } = rare();
    requestInterrupt(state.block, state.self, bytes, callerIn(state.block));
    abortSignalIfInterrupted();
  },
});

/**
 * The calling thread: its name, id and flag. Works in the main thread too.
 *
 * @example
 * ```ts
 * console.log(`${currentThread().name} stopping`);
 * ```
 */
export function currentThread(): CurrentThread {
  return current;
}
