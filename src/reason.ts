/**
 * Interrupt reasons cross threads as structured-clone bytes in the target's slot, so that a
 * thread busy in synchronous code can read the reason without waiting for a message. Bytes hold
 * what `structuredClone` copies, except what only a message can carry: shared memory and the
 * objects Node clones through a `MessagePort` are refused, by name.
 */

import { codedError, describeValue } from './coded-errors.js';
import { REASON_BYTES } from './control-block.js';
import { encodeStringReason } from './reason-text.js';
import { runtimeName } from './runtime/node.js';
import { BytesCloneError, decodeValue, encodeValue, withoutStackTrace } from './runtime/node-codec.js';

// What structured clone accepts but bytes cannot hold: say why, and how to get it there instead.
function refusalMessage(cause: unknown): string | undefined {
  try {
    if (!(cause instanceof BytesCloneError)) return undefined;
  } catch {
    return undefined; // a revoked proxy, thrown by a getter of the reason
  }
  return `The interrupt reason cannot reach the thread: ${causeMessage(cause)}. An interrupt reason is copied into shared memory as bytes, so that a thread busy in synchronous code can read it without a message. Pass the ${cause.className} in the thread's args (or post it on a MessagePort) and put plain data, such as a string or an index, in the reason.`;
}

function causeMessage(cause: unknown): string {
  try {
    return String((cause as { message?: unknown } | null)?.message ?? cause).replace(/\.+$/, '');
  } catch {
    return 'it cannot be cloned';
  }
}

/**
 * What stands in for a signal's reason that cannot reach a thread (uncloneable, too large): a
 * `DOMException` named like it that says what it was, so that the thread is interrupted all the
 * same. Never throws.
 */
export function standInReason(reason: unknown): DOMException {
  let name = 'AbortError';
  let text = 'a value that cannot be described';
  try {
    // Capped: the stand-in must fit the reason area whatever the name (a long one made it throw).
    if (reason instanceof Error && typeof reason.name === 'string' && reason.name !== '')
      name = reason.name.slice(0, 100);
    text = describeValue(reason);
  } catch {}
  return new DOMException(`The signal aborted with ${text}, which cannot reach the thread`, name);
}

/**
 * Encodes an interrupt reason, or returns undefined for no reason. Throws before anything is
 * interrupted when the reason cannot reach another thread, or could not be read back there.
 *
 * @example
 * ```ts
 * const bytes = encodeReason(AbortSignal.timeout(1).reason); // a DOMException TimeoutError, as bytes
 * ```
 */
export function encodeReason(reason: unknown): Uint8Array | undefined {
  if (reason === undefined) return undefined;
  // A Latin-1 string (a signal's name, most reasons) without the codec; the codec takes the rest.
  if (typeof reason === 'string') {
    const text = encodeStringReason(reason, REASON_BYTES - 8);
    if (text !== undefined) return text;
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(reason);
  } catch (cause) {
    throw codedError(
      TypeError,
      'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
      refusalMessage(cause) ??
        `The interrupt reason must be structured-cloneable to reach another thread. Received ${describeValue(reason)} (${causeMessage(cause)}); pass a string, an Error or plain data instead.`,
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
  // Read back here rather than fail in the target at its every interruption point: V8 writes a
  // few graphs it cannot read (on Node 20, an error that is its own cause's cause).
  if (typeof reason === 'object' && reason !== null) {
    try {
      withoutStackTrace(() => decodeValue(bytes));
    } catch (cause) {
      throw codedError(
        TypeError,
        'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
        `The interrupt reason cannot be read back once cloned on ${runtimeName} (${causeMessage(cause)}). Received ${describeValue(reason)}; pass a string, an Error or plain data without cycles through an error's cause instead.`,
        cause,
      );
    }
  }
  return bytes;
}
