/**
 * Where an asynchronous interrupt may land in a thread started with `asyncInterrupt`: the slow
 * path of the checks the transform inserts (./transform.ts), and the `allowInterruption` regions.
 * Light: part of the package's entry, which every thread loads.
 */
import { flagIndex, interruptSeqIndex } from '../control-block.js';
import { interruptedError, isThenable } from '../current.js';
import { invalidArgType } from '../errors.js';
import { state } from '../thread-state.js';
import type { AsyncInterruptStart } from './options.js';

/** Per thread, on a registered symbol: every copy of the package in a thread shares it. */
interface AsyncState {
  /** True in a thread started with `asyncInterrupt: 'regions'`. */
  regionsOnly: boolean;
  /** Open `allowInterruption` regions. */
  regionDepth: number;
}

const KEY = Symbol.for('graceful-threads.async-interrupt.v1');
const holder = globalThis as typeof globalThis & { [KEY]?: AsyncState };
const own: AsyncState = holder[KEY] ?? { regionsOnly: false, regionDepth: 0 };
if (holder[KEY] === undefined) Object.defineProperty(holder, KEY, { value: own });

// The interrupt (its sequence number) the inserted checks have thrown already.
const seqIndex = interruptSeqIndex(state.self.slot);
let thrownSeq = -1;

/**
 * @internal The inserted checks call it once they have seen the flag set: throws the
 * interruption unless a critical section is open (or, in 'regions' mode, no region is), and
 * only once per interrupt: the flag stays set, and every function the unwinding `finally` and
 * `catch` blocks call has a check too, which must not throw again. (`checkInterrupt()`,
 * `sleep()` and the other explicit interruption points still do.) Otherwise returns, and the
 * next check calls it again.
 */
export function asyncInterruptTrap(): void {
  if (state.criticalDepth !== 0 || (own.regionsOnly && own.regionDepth === 0)) return;
  // In the abort listeners of interruptionSignal(): it lands at the first check after them.
  if ((state.abortDispatching ?? 0) !== 0) return;
  const seq = Atomics.load(state.block.words, seqIndex);
  if (seq === thrownSeq) return;
  thrownSeq = seq;
  throw interruptedError();
}

/**
 * A region opened with {@link enterAllowInterruption}; disposing it closes it.
 *
 * @example
 * ```ts
 * const region: InterruptionRegion = enterAllowInterruption();
 * try {
 *   search(tree);
 * } finally {
 *   region[Symbol.dispose](); // what `using` does
 * }
 * ```
 */
export interface InterruptionRegion extends Disposable {
  /** Closes the region; closing it again does nothing. */
  [Symbol.dispose](): void;
}

/**
 * Runs `fn` as a region where an asynchronous interrupt may land: in a thread started with
 * `asyncInterrupt: 'regions'`, the checks the library put into the thread's code throw
 * {@link ThreadInterruptedError} only inside such regions (and never inside a critical section,
 * which wins). In a thread started with `asyncInterrupt: true` everything outside critical
 * sections is such a region already; in other threads it just calls `fn`. Regions nest; for an
 * async `fn` the region lasts until its promise settles.
 *
 * @returns what `fn` returns.
 * @example
 * ```ts
 * // a thread started with new Thread(url, { asyncInterrupt: 'regions' })
 * export default function render(scene: Scene) {
 *   const frame = allowInterruption(() => rayTrace(scene)); // may stop in here, at any loop
 *   saveFrame(frame); // but never here
 * }
 * ```
 */
export function allowInterruption<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn);
  own.regionDepth++;
  let result: R;
  try {
    result = fn();
  } catch (error) {
    own.regionDepth--;
    throw error;
  }
  if (!isThenable(result)) {
    own.regionDepth--;
    return result;
  }
  return new Promise((resolve) => resolve(result)).then(
    (value) => {
      own.regionDepth--;
      return value;
    },
    (error: unknown) => {
      own.regionDepth--;
      throw error;
    },
  ) as R;
}

/**
 * Opens an {@link allowInterruption} region until the returned object is disposed: its `using` form.
 *
 * @example
 * ```ts
 * {
 *   using _ = enterAllowInterruption();
 *   search(tree); // an interrupt may land anywhere in here
 * }
 * ```
 */
export function enterAllowInterruption(): InterruptionRegion {
  own.regionDepth++;
  let open = true;
  return {
    [Symbol.dispose]() {
      if (!open) return;
      open = false;
      own.regionDepth--;
    },
  };
}

/**
 * @internal Run by the bootstrap of a thread started with `asyncInterrupt`, before its target
 * loads: loads the installer (`installerHref`, a file of its own that no other thread loads) and
 * points the inserted checks at this thread's flag word.
 *
 * @returns what marks a SyntaxError of the target's loading with where the module is broken.
 */
export async function enableAsyncInterrupt(
  config: AsyncInterruptStart,
  installerHref: string,
): Promise<(error: unknown) => void> {
  const installer = (await import(installerHref)) as typeof import('./install.js');
  const { words } = state.block;
  const flag = new Int32Array(words.buffer, words.byteOffset + flagIndex(state.self.slot) * 4, 1);
  if (config.regions) own.regionsOnly = true;
  return installer.installAsyncInterrupt(config, flag, asyncInterruptTrap);
}
