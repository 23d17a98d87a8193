/**
 * `interruptionSignal()`: an AbortSignal that follows the thread's flag, and its watcher. Rarely
 * run, so part of rare.js (src/rare.ts): a thread that never asks for the signal does not load it.
 */
import { trackAbortListeners } from './abort-listeners.js';
import { FLAG_WAIT_SLICE_MS, flagIndex, REQUESTED, watchersIndex } from './control-block.js';
import { interruptedError } from './current.js';
import { allowManyListeners, type KeepAlive } from './runtime/node.js';
import { state } from './thread-state.js';

// This thread's flag word is words[index]; neither ever changes.
const words = state.block.words;
const index = flagIndex(state.self.slot);
// Counts this thread's pending waits on the flag word: an interrupt notifies it only then.
const watchers = watchersIndex(state.self.slot);

/** `interruptionSignal()`, which index.ts exports and documents. */
export function interruptionSignal(): AbortSignal {
  let controller = state.signalController;
  if (controller === undefined) {
    controller = new AbortController();
    state.signalController = controller;
    // Shared by everything the thread does: many concurrent waits on it are no leak (Node 24
    // and newer no longer warn about them on any AbortSignal; Node 20 does after ten).
    allowManyListeners(controller.signal);
    watchFlag(controller);
  }
  abortSignalIfInterrupted();
  return controller.signal;
}

/** @internal Aborts the thread's signal if it is interrupted and no critical section is open. */
export function abortSignalIfInterrupted(): void {
  const controller = state.signalController;
  if (controller === undefined || controller.signal.aborted) return;
  if (state.criticalDepth === 0 && (Atomics.load(words, index) & REQUESTED) !== 0) {
    state.abortDispatching = (state.abortDispatching ?? 0) + 1;
    try {
      controller.abort(interruptedError());
    } finally {
      state.abortDispatching--;
    }
    // Its watcher may still wait on an unchanged flag word (the abort came from leaving a
    // critical section): wake it, so that it ends and lets go of the thread's keep-alive.
    Atomics.notify(words, index);
  }
}

// Waits on the flag word without blocking the thread. A pending Atomics.waitAsync keeps no
// event loop alive (nodejs/node#61941), so a thread with nothing else to do would end before its
// interrupt. While the watcher waits and something listens to the signal, it holds the
// bootstrap's keep-alive (present while the target runs); with no listener it holds nothing, so
// a target awaiting what nothing can settle still ends.
function watchFlag(controller: AbortController): void {
  const { signal } = controller;
  let waiting = false;
  let held: KeepAlive | undefined;
  const listeners = trackAbortListeners(signal, () => hold());
  const hold = (): void => {
    const want = waiting && listeners.listening && !signal.aborted;
    if (want === (held !== undefined)) return;
    if (want) {
      held = state.targetKeepAlive;
      held?.ref();
    } else {
      held?.unref();
      held = undefined;
    }
  };
  const watch = async (): Promise<void> => {
    // A pool worker retires its signal between tasks (resetForNextTask): the watcher ends with it.
    while (!signal.aborted && state.signalController === controller) {
      // Counted before the read: an interrupt that reads no watcher does not notify the flag
      // word, and has set the flag before that read, so this read (or the wait's compare) sees it.
      Atomics.add(words, watchers, 1);
      let wait: ReturnType<typeof Atomics.waitAsync> | undefined;
      try {
        const word = Atomics.load(words, index);
        if ((word & REQUESTED) !== 0) abortSignalIfInterrupted();
        if (signal.aborted || state.signalController !== controller) return;
        wait = Atomics.waitAsync(words, index, word, FLAG_WAIT_SLICE_MS);
        if (!wait.async) continue;
        waiting = true;
        hold();
        await wait.value;
      } finally {
        Atomics.sub(words, watchers, 1);
        if (wait?.async === true) {
          waiting = false;
          hold();
        }
      }
    }
  };
  void watch();
}
