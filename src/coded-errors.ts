/**
 * The codes of the errors this library creates, and the helpers that build coded errors. No
 * state: each bundle that needs them (index.js, heavy.js, rare.js) holds its own copy
 * (scripts/build.mjs), so a thread that throws none of them does not parse them.
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
