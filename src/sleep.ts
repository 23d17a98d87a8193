/**
 * Interruptible sleep: the first interruption points. The synchronous form blocks with
 * `Atomics.wait` on the thread's own park word, which an interrupt bumps and notifies after it
 * sets the flag, so it wakes at once.
 */

import {
  FLAG_WAIT_SLICE_MS,
  flagIndex,
  HAS_REASON,
  interruptSeqIndex,
  parkIndex,
  REQUESTED,
  seenIndex,
} from './control-block.js';
import { interruptedErrorAfterWait, warmInterruptPath } from './current.js';
import { ThreadInterruptedError } from './errors.js';
import { rare } from './lazy-rare.js';
import { assertCanBlock } from './runtime/node.js';
import { state } from './thread-state.js';

const words = state.block.words;
const index = flagIndex(state.self.slot);
// The park word, as the waits of src/waits/ use, not the flag word: an interrupt's last step is the
// notify of the park word (see wakeTarget in src/control-block.ts), and a thread woken by an
// earlier one of its steps waited for the steps after it (15-25 us more to run again).
const park = parkIndex(state.self.slot);
// Where an interruption point notes that the thread has seen its interrupt (noteSeen in
// src/current.ts), for the inline copy on the way out of a wait.
const seqWord = interruptSeqIndex(state.self.slot);
const seenWord = seenIndex(state.self.slot);

/** @internal Throws the error the sleeps throw for a bad `ms` (NaN fails `ms >= 0` too). */
export function validateDelay(ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !(ms >= 0)) throw rare().delayError(ms);
}

/**
 * Blocks the calling thread for `ms` milliseconds, or until it is interrupted: then it wakes at
 * once and throws {@link ThreadInterruptedError} (also when the flag was already set on entry).
 * Inside a critical section the interruption is deferred and it sleeps the full time.
 * `Infinity` sleeps until interrupted.
 *
 * Blocking suits workers; in the main thread prefer {@link sleepAsync}.
 *
 * @example
 * ```ts
 * while (!interruptionRequested()) {
 *   poll();
 *   sleep(1000); // an interrupt ends the wait at once
 * }
 * ```
 */
export function sleep(ms: number): void {
  validateDelay(ms);
  assertCanBlock();
  // A sleep without end reads no clock: Node loads `performance` on first use, which costs a
  // thread parked in sleep(Infinity) 0.1-0.2 MiB.
  const now = ms === Number.POSITIVE_INFINITY ? () => 0 : () => performance.now();
  const deadline = now() + ms;
  let ahead: ThreadInterruptedError | undefined;
  for (;;) {
    // Read before the flag: an interrupt after that look changes it, and the wait returns.
    const seen = Atomics.load(words, park);
    const flag = Atomics.load(words, index);
    if ((flag & REQUESTED) !== 0 && state.criticalDepth === 0) {
      // The error built ahead, as interruptedErrorAfterWait() gives it without a reason, inline:
      // each call made between the wake-up and the throw, in a thread gone cold, costs it 1-4 us.
      if (ahead === undefined || (flag & HAS_REASON) !== 0) throw interruptedErrorAfterWait(ahead);
      const seq = Atomics.load(words, seqWord);
      if (Atomics.load(words, seenWord) !== seq) Atomics.store(words, seenWord, seq);
      throw ahead;
    }
    const left = deadline - now();
    if (left <= 0) return;
    warmInterruptPath();
    // The error an interrupt would throw, built while the thread has nothing else to do: capturing
    // its stack is most of what runs between the wake and the throw (10-30 us on a cold path), and
    // the stack is the one it would have after the wake, this wait's. Nothing formats it. Not for
    // a nap of a millisecond or less, whose cost it would be a good part of.
    if (left > 1) ahead ??= new ThreadInterruptedError();
    // Returns early when the word changes: an interrupt (its reason published with the flag), or a
    // wake-up meant for a wait of this thread (a child ending...), after which it looks again.
    Atomics.wait(words, park, seen, Math.min(left, FLAG_WAIT_SLICE_MS));
  }
}
