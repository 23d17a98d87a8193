/**
 * Failures of threads nobody will ever join: reported rather than lost, as Python's
 * `threading.excepthook` does. A thread's failure is unobserved until `join()` or `joinSync()`
 * is called on its handle; one still unobserved when the handle is garbage-collected, or when the
 * calling thread ends (the program, for the main thread), goes to the handler: by default a
 * report on stderr with the thread's name and the error's stack.
 */
import { describeValue, invalidArgType } from './coded-errors.js';
import { onProcessExit, writeStderr } from './runtime/node-process.js';

/** The thread a failure came from, as given to a thread error handler. */
export interface FailedThreadInfo {
  readonly name: string;
  /** Node's thread id (`worker.threadId`). */
  readonly threadId: number;
}

/** Receives the failure of a thread nobody joined; see {@link setThreadErrorHandler}. */
export type ThreadErrorHandler = (error: unknown, thread: FailedThreadInfo) => void;

interface Failure {
  readonly error: unknown;
  readonly thread: FailedThreadInfo;
}

function defaultHandler(error: unknown, thread: FailedThreadInfo): void {
  let text: string;
  try {
    text = error instanceof Error && typeof error.stack === 'string' ? error.stack : describeValue(error);
  } catch {
    text = 'an error that cannot be described';
  }
  writeStderr(`Exception in thread "${thread.name}" (thread ${thread.threadId}), which nobody joined:\n${text}\n`);
}

let handler: ThreadErrorHandler = defaultHandler;
/** Failures not yet observed, by a token each handle holds. */
const pending = new Map<object, Failure>();
let exitHooked = false;

function deliver(failure: Failure): void {
  try {
    handler(failure.error, failure.thread);
  } catch (error) {
    defaultHandler(error, { name: 'thread error handler', threadId: failure.thread.threadId });
  }
}

const collected = new FinalizationRegistry<object>((token) => {
  const failure = pending.get(token);
  if (failure === undefined) return;
  pending.delete(token);
  deliver(failure);
});

/**
 * @internal Records the failure of the thread whose handle is `handle`; returns the token that
 * {@link observeFailure} takes once someone joins it.
 */
export function recordFailure(handle: object, error: unknown, thread: FailedThreadInfo): object {
  const token = {};
  pending.set(token, { error, thread });
  collected.register(handle, token, token);
  if (!exitHooked) {
    exitHooked = true;
    onProcessExit(() => {
      for (const [token, failure] of pending) {
        pending.delete(token);
        deliver(failure);
      }
    });
  }
  return token;
}

/** @internal The failure reached `join()`: it is not reported. */
export function observeFailure(token: object): void {
  pending.delete(token);
  collected.unregister(token);
}

/**
 * Replaces what happens to the failure of a thread nobody joins (its handle dropped, or the
 * program ending first): by default it is written to stderr with the thread's name and the
 * error's stack. A failure that reaches `join()` or `joinSync()` is never reported here.
 * Affects the threads started by the calling thread; pass `undefined` to restore the default.
 *
 * @example
 * ```ts
 * setThreadErrorHandler((error, thread) => logger.error({ thread: thread.name, error }));
 * ```
 */
export function setThreadErrorHandler(fn: ThreadErrorHandler | undefined): void {
  if (fn !== undefined && typeof fn !== 'function') throw invalidArgType('fn', 'a function or undefined', fn);
  handler = fn ?? defaultHandler;
}
