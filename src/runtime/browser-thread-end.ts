/**
 * The end of a thread in a browser, seen from inside it: a Web Worker does not end when it runs
 * out of work, as a Node thread does. It ends when its target settles ({@link endThread}),
 * saying so last on its report port; an uncaught error ends it as in Node ({@link onFatalError}).
 */

import { runningThreads } from '../shutdown/running-threads.js';
import { EXIT_KEY, holder, scope } from './browser-context.js';

const endListeners: ((exitCode: number) => void)[] = [];
let ended = false;

/** Calls `listener` as the calling thread ends ({@link endThread}), with its exit code. */
export function onThreadEnd(listener: (exitCode: number) => void): void {
  endListeners.push(listener);
}

/**
 * Ends the calling thread, one this package started: runs the {@link onThreadEnd} listeners,
 * says the end last on its report port and closes the worker. A Web Worker does not end when
 * it runs out of work, as a Node thread does: it ends when its target settles, and what it
 * left scheduled (timers, listeners) does not run. Threads it started and did not join run to
 * their end first, as a Node thread's workers keep it alive (closing the worker would end them,
 * or never start one it started last); a fatal error ends them with it, as in Node.
 */
export function endThread(exitCode: number): void {
  if (holder === undefined || ended) return;
  ended = true;
  if (exitCode === 0 && runningThreads.size > 0) void childrenEnded().then(() => finishThread(exitCode));
  else finishThread(exitCode);
}

async function childrenEnded(): Promise<void> {
  // Until none is left: one ending may start another (a join() callback of the target's).
  while (runningThreads.size > 0) await Promise.all([...runningThreads].map((thread) => thread.exited));
}

function finishThread(exitCode: number): void {
  for (const listener of endListeners) listener(exitCode);
  holder?.exitPort.postMessage({ [EXIT_KEY]: exitCode });
  scope.close?.();
}

/**
 * Calls `listener` with an uncaught error or unhandled rejection that no listener of the
 * user's handled (`preventDefault()`), then ends the thread with exit code 1, as Node does.
 */
export function onFatalError(listener: (error: unknown) => void): void {
  const fatal = (event: { readonly defaultPrevented: boolean }, error: unknown): void => {
    // After every other listener of this event has run.
    setTimeout(() => {
      if (event.defaultPrevented) return;
      listener(error);
      endThread(1);
    });
  };
  scope.addEventListener?.('error', (event: { readonly defaultPrevented: boolean; readonly error: unknown }) =>
    fatal(event, event.error),
  );
  scope.addEventListener?.(
    'unhandledrejection',
    (event: { readonly defaultPrevented: boolean; readonly reason: unknown }) => fatal(event, event.reason),
  );
}

/** A browser's shutdown does not exit a process: nothing to do. */
export function exitThreadNow(): void {}

/** A worker's output goes straight to the console: nothing to watch. */
export function watchOutput(): void {}

/** A worker's output goes straight to the console: none waits for its parent. */
export function outputWasWritten(): boolean {
  return false;
}

/** A worker's output goes straight to the console: nothing is ever in flight. */
export function outputInFlight(): boolean {
  return false;
}
