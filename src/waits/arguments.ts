/** Validation of the arguments every wait takes: timeouts and counts. */
import { codedError, invalidArgType } from '../coded-errors.js';

/** A timeout in milliseconds: a number >= 0, `Infinity` for none. */
export function validateTimeout(timeoutMs: unknown, name = 'timeoutMs'): number {
  if (timeoutMs === undefined) return Number.POSITIVE_INFINITY;
  if (typeof timeoutMs !== 'number') throw invalidArgType(name, 'a number of milliseconds', timeoutMs);
  if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw codedError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be a number of milliseconds >= 0 (Infinity, or leave it out, to wait without a timeout). Received ${timeoutMs}`,
    );
  }
  return timeoutMs;
}

/** A count: an integer from `min` to `max`. */
export function validateCount(value: unknown, name: string, min: number, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'an integer', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
    );
  }
  return value;
}
