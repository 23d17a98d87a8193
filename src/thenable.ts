/**
 * Whether a value is a thenable: stateless, so each bundle that needs it holds its own copy
 * (scripts/build.mjs).
 */

/**
 * @internal Whether `value` is a thenable. One whose `then` cannot even be read (a getter or a
 * Proxy trap that throws) is not: it is returned as a plain result.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}
