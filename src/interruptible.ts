/**
 * `interruptible(promise)`: awaiting an operation that takes no `AbortSignal` as an interruption
 * point. Built on the thread's interruption signal, so it follows the same rules: deferred inside
 * critical sections, and pending work for the thread's keep-alive while it waits.
 */
import { interruptionSignal, isThenable } from './current.js';
import { invalidArgType } from './errors.js';

/**
 * Settles as `promise` does, unless the calling thread is interrupted first: then it rejects with
 * the `ThreadInterruptedError` that `interruptionSignal().reason` holds (at once when the
 * thread is already interrupted, even if `promise` has settled). Inside a critical section the
 * rejection waits for the outermost section to end, as `sleepAsync()` does. For APIs that take
 * no `signal` option; an API that takes one should get `interruptionSignal()` instead.
 *
 * It stops the wait, not the operation: whatever `promise` stands for goes on and keeps what it
 * holds (a socket, a file descriptor, a libuv pool thread) until it settles by itself, and its
 * outcome is then dropped (a later rejection is handled, never an `unhandledRejection`). Free the
 * resource in a `finally` or `catch`, e.g. by closing the handle the operation works on.
 *
 * While it waits it listens to the thread's interruption signal, and its listener is removed as
 * soon as `promise` settles, so any number of settled calls leave nothing behind. Like every
 * operation listening to that signal, a pending call keeps a thread alive while its target runs:
 * a target awaiting `interruptible(p)` for a `p` that nothing will settle (a promise of
 * `Atomics.waitAsync`, which holds no event loop open) waits for its interrupt instead of ending
 * with `ERR_THREAD_UNSETTLED`. In the main thread it holds nothing open, as awaiting `promise`
 * would not.
 *
 * @param promise a promise or any other thenable. Anything else rejects with a `TypeError`
 *   (`ERR_INVALID_ARG_TYPE`).
 * @example
 * ```ts
 * import { lookup } from 'node:dns/promises';
 *
 * // lookup() takes no signal: an interrupt ends the wait for it here.
 * const { address } = await interruptible(lookup('example.com'));
 * ```
 */
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
