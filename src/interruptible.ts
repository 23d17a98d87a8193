/**
 * `interruptible(promise)`: awaiting an operation that takes no `AbortSignal` as an interruption
 * point. Built on the thread's interruption signal, so it follows the same rules: deferred inside
 * critical sections, and pending work for the thread's keep-alive while it waits.
 */
import { invalidArgType } from './coded-errors.js';
import { interruptionSignal } from './interruption-signal.js';
import { isThenable } from './thenable.js';

/** `interruptible()`, which index.ts exports and documents. */
export function interruptible<T>(promise: PromiseLike<T>): Promise<T> {
  if (!isThenable(promise)) {
    return Promise.reject(invalidArgType('promise', 'a promise or another thenable', promise));
  }
  const signal = interruptionSignal();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    // A fresh native promise adopts the thenable: a foreign then() runs in a later job, where
    // anything it throws becomes a rejection. It is subscribed to even when the thread is already
    // interrupted, so that a rejection arriving after the interruption counts as handled.
    new Promise<T>((adopt) => adopt(promise)).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
