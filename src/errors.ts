/**
 * Errors thrown by graceful-threads. Every error carries a `code` users can branch on; bad input
 * is a `TypeError` or `RangeError` as in Node's own APIs (src/coded-errors.ts builds those).
 */

// A brand on a registered symbol lets `instanceof` and `isThreadInterruptedError` recognise the
// error even when two copies of this package are loaded (the dual-package hazard), or when it
// was rebuilt after crossing a thread boundary.
const brand = Symbol.for('graceful-threads.ThreadInterruptedError');

/**
 * Thrown at an interruption point (`checkInterrupt()`, `sleep()`, …) when the calling thread's
 * interruption flag is set. Throwing it does **not** clear the flag: every later interruption
 * point throws again until `clearInterrupt()` is called, so a `catch` that swallows it cannot
 * lose the request.
 *
 * A generic `catch (e)` catches it too: rethrow it so the thread can stop.
 *
 * @example
 * ```ts
 * try {
 *   doWork();
 * } catch (e) {
 *   if (e instanceof ThreadInterruptedError) throw e; // let the thread stop
 *   log(e);
 * }
 * ```
 */
export class ThreadInterruptedError extends Error {
  /** Always `'ERR_THREAD_INTERRUPTED'`. */
  readonly code = 'ERR_THREAD_INTERRUPTED' as const;
  /** The value given to `interrupt(reason)`, structured-cloned into this thread. */
  readonly reason: unknown;

  /** @param reason what `interrupt(reason)` was given; it also shapes the message. */
  constructor(reason?: unknown) {
    // No reason, no formatting: the interrupt that ends most threads, thrown on their way out.
    super(reason === undefined ? NO_REASON : describeReason(reason));
    this.reason = reason;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isThreadInterruptedError(value);
  }
}

/**
 * @internal Makes `error`, built without a reason before its thread blocked, the error
 * `new ThreadInterruptedError(reason)` would be: its reason and message. Its stack, formatted on
 * first read, then starts with that message. Building a fresh one on the wake-up (capturing its
 * stack) cost each thread 15-30 us on its way out of a shutdown, whose interrupt has a reason.
 */
export function giveReason(error: ThreadInterruptedError, reason: unknown): ThreadInterruptedError {
  (error as { reason: unknown }).reason = reason;
  error.message = describeReason(reason);
  return error;
}

Object.defineProperty(ThreadInterruptedError.prototype, 'name', {
  value: 'ThreadInterruptedError',
  writable: true,
  configurable: true,
});

/**
 * True when `value` is a {@link ThreadInterruptedError}, from this copy of the package or any
 * other. Use it in generic `catch` blocks to rethrow the interruption.
 *
 * @example
 * ```ts
 * try {
 *   await step();
 * } catch (error) {
 *   if (isThreadInterruptedError(error)) throw error; // let the thread stop
 *   log(error);
 * }
 * ```
 */
export function isThreadInterruptedError(value: unknown): value is ThreadInterruptedError {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[brand] === true;
  } catch {
    return false; // a proxy whose trap throws
  }
}

/**
 * @internal True when `error` ends a thread gracefully: a {@link ThreadInterruptedError} (also a
 * copy Node made of one when it crossed threads, which keeps the code), or the `AbortError` an API
 * rejects with when the thread's interruption signal aborts it (its `cause` is one).
 */
export function endsThreadGracefully(error: unknown): boolean {
  return endsGracefully(error, 0);
}

// Never throws, and stops on a cycle of causes: it runs on whatever the target threw.
function endsGracefully(error: unknown, depth: number): boolean {
  if (typeof error !== 'object' || error === null || depth > 16) return false;
  try {
    const { code, name, cause } = error as { code?: unknown; name?: unknown; cause?: unknown };
    if (isThreadInterruptedError(error) || code === 'ERR_THREAD_INTERRUPTED') return true;
    return name === 'AbortError' && endsGracefully(cause, depth + 1);
  } catch {
    return false; // a throwing getter or proxy trap: not an interruption
  }
}

const NO_REASON = 'The thread was interrupted';

// Parenthesized: see currentReason in src/current.ts.
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const describeReason = (function (reason: unknown): string {
  if (reason === undefined) return NO_REASON;
  if (typeof reason === 'string') return `The thread was interrupted: ${reason}`;
  if (reason instanceof Error) return `The thread was interrupted: ${reason.message}`;
  return NO_REASON;
});
