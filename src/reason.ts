/**
 * Interrupt reasons cross threads as structured-clone bytes in the target's slot, so that a
 * thread busy in synchronous code can read the reason without waiting for a message.
 */
import { REASON_BYTES } from './control-block.js';
import { codedError, describeValue } from './errors.js';
import { encodeValue } from './runtime/node.js';

/**
 * Encodes an interrupt reason, or returns undefined for no reason. Throws before anything is
 * interrupted when the reason cannot cross to another thread.
 */
export function encodeReason(reason: unknown): Uint8Array | undefined {
  if (reason === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(reason);
  } catch (cause) {
    throw codedError(
      TypeError,
      'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
      `The interrupt reason must be structured-cloneable to reach another thread. Received ${describeValue(reason)}; pass a string, an Error or plain data instead.`,
      cause,
    );
  }
  if (bytes.length > REASON_BYTES) {
    throw codedError(
      RangeError,
      'ERR_INTERRUPT_REASON_TOO_LARGE',
      `The interrupt reason takes ${bytes.length} bytes once cloned; at most ${REASON_BYTES} fit. Pass a shorter reason, such as a string or a small Error.`,
    );
  }
  return bytes;
}
