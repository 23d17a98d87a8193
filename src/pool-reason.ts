/**
 * The interrupt reason a cancelled pool task gets, as bytes for its thread's reason area.
 */
import { encodeReason, standInReason } from './reason.js';

const ABORTED = 'This operation was aborted';
let abortedBytes: Uint8Array | undefined;

/**
 * The default reason of `controller.abort()`, a `DOMException` named `AbortError` and nothing
 * more: encoded once. Encoding one reads its stack (formatting it) and checks the bytes decode,
 * about 100 us the first time in a while, on the way from abort() to the task's flag; the task
 * gets an equal `DOMException`, whose stack is not the caller's.
 */
function isPlainAbort(reason: unknown): boolean {
  try {
    return (
      reason instanceof DOMException &&
      reason.name === 'AbortError' &&
      reason.message === ABORTED &&
      Object.keys(reason).length === 0 &&
      !Object.hasOwn(reason, 'cause')
    );
  } catch {
    return false;
  }
}

/**
 * @internal The bytes of `reason` for the thread's reason area. A reason that cannot reach the
 * thread is replaced by one that says what it was, as a Thread's signal does: the task is
 * interrupted all the same.
 */
export function reasonBytes(reason: unknown): Uint8Array | undefined {
  if (isPlainAbort(reason)) {
    abortedBytes ??= encodeReason(new DOMException(ABORTED, 'AbortError'));
    return abortedBytes;
  }
  try {
    return encodeReason(reason);
  } catch {}
  return encodeReason(standInReason(reason));
}
