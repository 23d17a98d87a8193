/**
 * The error of a sleep given a bad delay. Part of rare.js (src/rare.ts): a thread whose sleeps
 * are given numbers does not load it.
 */
import { codedError, invalidArgType } from './coded-errors.js';

/** @internal What `sleep(ms)` and `sleepAsync(ms)` throw for an `ms` that is no number >= 0. */
export function delayError(ms: unknown): TypeError | RangeError {
  if (typeof ms !== 'number') return invalidArgType('ms', 'a number', ms);
  return codedError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "ms" is out of range. It must be a number >= 0 (Infinity to sleep until interrupted). Received ${ms}`,
  );
}
