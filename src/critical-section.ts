/**
 * Critical sections: interruption deferred while they are open. Rarely run, so part of rare.js
 * (src/rare.ts): a thread that never opens one does not load it. The depth lives in the
 * thread's state and its slot, where the interruption points read it.
 */

import { invalidArgType } from './coded-errors.js';
import { setCriticalDepth } from './control-block.js';
import { abortSignalIfInterrupted } from './interruption-signal.js';
import { isThenable } from './thenable.js';
import { state } from './thread-state.js';

/** A critical section opened with {@link enterCriticalSection}; disposing it closes it. */
export interface CriticalSection extends Disposable {
  /** Closes the section; closing it again does nothing. */
  [Symbol.dispose](): void;
}

/** `enterCriticalSection()`, which index.ts exports and documents. */
export function enterCriticalSection(): CriticalSection {
  enter();
  let open = true;
  return {
    [Symbol.dispose]() {
      if (!open) return;
      open = false;
      leave();
    },
  };
}

/** `criticalSection()`, which index.ts exports and documents. */
export function criticalSection<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn);
  enter();
  let result: R;
  try {
    result = fn();
  } catch (error) {
    leave();
    throw error;
  }
  if (!isThenable(result)) {
    leave();
    return result;
  }
  // A fresh native promise adopts the thenable: its then() is called in a later job, where a
  // throw, a getter that throws or a foreign promise's odd `constructor` becomes a rejection,
  // and the handlers below always run once, so the section always closes when it settles.
  return new Promise((resolve) => resolve(result)).then(
    (value) => {
      leave();
      return value;
    },
    (error: unknown) => {
      leave();
      throw error;
    },
  ) as R;
}

function enter(): void {
  setCriticalDepth(state.block, state.self, ++state.criticalDepth);
}

function leave(): void {
  const depth = --state.criticalDepth;
  setCriticalDepth(state.block, state.self, depth);
  if (depth === 0) abortSignalIfInterrupted();
}
