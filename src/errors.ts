/**
 * Errors thrown by graceful-threads. Every error carries a `code` users can branch on; bad input
 * is a `TypeError` or `RangeError` as in Node's own APIs.
 */

/** The codes carried by errors this library creates. */
export type GracefulThreadsErrorCode =
  | 'ERR_THREAD_INTERRUPTED'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_INVALID_THREAD_STATE'
  | 'ERR_THREAD_LIMIT'
  | 'ERR_THREAD_ARGS_NOT_CLONEABLE'
  | 'ERR_THREAD_RESULT_NOT_CLONEABLE'
  | 'ERR_INTERRUPT_REASON_NOT_CLONEABLE'
  | 'ERR_INTERRUPT_REASON_TOO_LARGE'
  | 'ERR_THREAD_MODULE_NOT_FOUND'
  | 'ERR_THREAD_TYPESCRIPT_UNSUPPORTED'
  | 'ERR_THREAD_EXPORT_NOT_FOUND'
  | 'ERR_THREAD_EXPORT_NOT_FUNCTION'
  | 'ERR_THREAD_TERMINATED'
  | 'ERR_THREAD_EXITED'
  | 'ERR_THREAD_UNSETTLED'
  | 'ERR_THREAD_JOIN_TIMEOUT'
  | 'ERR_LOCK_NOT_HELD'
  | 'ERR_LOCK_ALREADY_HELD'
  | 'ERR_SEMAPHORE_OVERFLOW'
  | 'ERR_BARRIER_BROKEN'
  | 'ERR_QUEUE_CLOSED'
  | 'ERR_QUEUE_ITEM_TOO_LARGE'
  | 'ERR_QUEUE_ITEM_NOT_CLONEABLE'
  | 'ERR_SHUTDOWN_FROM_THREAD'
  | 'ERR_POOL_QUEUE_FULL'
  | 'ERR_POOL_CLOSED'
  | 'ERR_CROSS_ORIGIN_ISOLATION_REQUIRED'
  | 'ERR_BLOCKING_WAIT_ON_MAIN_THREAD'
  | 'ERR_UNSUPPORTED_IN_BROWSER'
  | 'ERR_ASYNC_INTERRUPT_UNAVAILABLE';

/** An error with a {@link GracefulThreadsErrorCode}. */
export type CodedError<E extends Error = Error> = E & { readonly code: GracefulThreadsErrorCode };

/** @internal Builds a built-in error (`TypeError`, `RangeError`, `Error`) that carries a code. */
export function codedError<E extends Error>(
  Base: new (message: string, options?: ErrorOptions) => E,
  code: GracefulThreadsErrorCode,
  message: string,
  cause?: unknown,
): CodedError<E> {
  const error = cause === undefined ? new Base(message) : new Base(message, { cause });
  Object.defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
  return error as CodedError<E>;
}

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
const describeReason = (function describeReason(reason: unknown): string {
  if (reason === undefined) return NO_REASON;
  if (typeof reason === 'string') return `The thread was interrupted: ${reason}`;
  if (reason instanceof Error) return `The thread was interrupted: ${reason.message}`;
  return NO_REASON;
});

/** @internal A `TypeError` with `ERR_INVALID_ARG_TYPE`, worded as Node words it. */
export function invalidArgType(name: string, expected: string, actual: unknown): CodedError<TypeError> {
  return codedError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describeValue(actual)}`,
  );
}

/** @internal A short, safe description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    try {
      return `an instance of ${value.constructor?.name ?? 'Object'}`;
    } catch {
      return 'an object';
    }
  }
  if (typeof value === 'string')
    return `type string (${JSON.stringify(value.length > 28 ? `${value.slice(0, 25)}...` : value)})`;
  if (typeof value === 'symbol') return `type symbol (${String(value)})`;
  return `type ${typeof value} (${String(value)})`;
}
