/**
 * Where an asynchronous interrupt may land in a thread started with `asyncInterrupt`: the slow
 * path of the checks the transform inserts (./transform.ts), and the `allowInterruption` regions.
 * Part of rare.js (src/rare.ts): only threads started with `asyncInterrupt` and callers of the
 * regions load it.
 */

import { invalidArgType } from '../coded-errors.js';
import { flagIndex } from '../control-block.js';
import { interruptedError } from '../current.js';
import { isThenable } from '../thenable.js';
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
  // Once per interrupt: until the flag is cleared (clearInterrupt(), a pool task's start), not per
  // sequence number, which an interrupter that lost the race to set the flag has bumped too.
  if (state.asyncThrown === true) return;
  state.asyncThrown = true;
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

/** `allowInterruption()`, which index.ts exports and documents. */
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

/** `enterAllowInterruption()`, which index.ts exports and documents. */
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
 * loads, once it has loaded the installer (a file of its own that no other thread loads): points
 * the inserted checks at this thread's flag word.
 *
 * @returns what marks a SyntaxError of the target's loading with where the module is broken.
 */
export function enableAsyncInterrupt(
  config: AsyncInterruptStart,
  installer: typeof import('./install.js'),
): (error: unknown) => void {
  const { words } = state.block;
  const flag = new Int32Array(words.buffer, words.byteOffset + flagIndex(state.self.slot) * 4, 1);
  if (config.regions) own.regionsOnly = true;
  return installer.installAsyncInterrupt(config, flag, asyncInterruptTrap);
}
