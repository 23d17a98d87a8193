/**
 * Reads and writes an interrupt reason that is a string straight from and to its structured-clone
 * bytes, so that a thread interrupted with a string (the common reason, and what a shutdown sends:
 * 'SIGINT', …) need not load the package's codec (src/lazy.ts): tens of milliseconds per thread
 * on a loaded machine, paid by every thread of a shutdown at once. Nor the interrupter: its first
 * encoding through the codec loads `node:v8` and compiles the structured copy (about 1 ms between
 * a signal and the shutdown's first interrupt, measured on Node 26).
 *
 * The bytes are V8's serialization format, which Node's `v8.serialize` and structured clone
 * write: a header (0xFF, the version), optional padding (0x00), then a one-byte string ('"', a
 * varint length, Latin-1 bytes) or a two-byte string ('c', a varint byte length, UTF-16LE).
 */

const HEADER = 0xff;
/** The format version V8 writes (Node 20 to 26 alike); {@link decodeStringReason} accepts any. */
const VERSION = 0x0f;
const PADDING = 0x00;
const ONE_BYTE_STRING = 0x22;
const TWO_BYTE_STRING = 0x63;

/** The string the bytes hold, or undefined when they hold anything else (the codec reads those). */
// Parenthesized: see currentReason in src/current.ts.
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const decodeStringReason = (function (bytes: Uint8Array): string | undefined {
  if (bytes[0] !== HEADER || bytes.length < 4 || bytes[1]! >= 0x80) return undefined;
  let at = 2;
  while (bytes[at] === PADDING) at++;
  const tag = bytes[at++];
  if (tag !== ONE_BYTE_STRING && tag !== TWO_BYTE_STRING) return undefined;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    if (byte === undefined || shift > 28) return undefined;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (at + length !== bytes.length) return undefined; // something follows: not a lone string
  if (tag === ONE_BYTE_STRING) return String.fromCharCode(...bytes.subarray(at));
  if (length % 2 !== 0) return undefined;
  const units = new Uint16Array(length / 2);
  for (let i = 0; i < units.length; i++) units[i] = bytes[at + 2 * i]! | (bytes[at + 2 * i + 1]! << 8);
  return String.fromCharCode(...units);
});

/**
 * The bytes the codec would write for `text` when every character is Latin-1 (V8's one-byte
 * string), with at most `maxChars` characters; undefined otherwise (the codec writes those).
 */
export function encodeStringReason(text: string, maxChars: number): Uint8Array | undefined {
  const length = text.length;
  if (length > maxChars) return undefined;
  const lengthBytes = length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
  const bytes = new Uint8Array(3 + lengthBytes + length);
  bytes[0] = HEADER;
  bytes[1] = VERSION;
  bytes[2] = ONE_BYTE_STRING;
  let at = 3;
  for (let rest = length; ; rest = Math.floor(rest / 0x80)) {
    if (rest < 0x80) {
      bytes[at++] = rest;
      break;
    }
    bytes[at++] = (rest & 0x7f) | 0x80;
  }
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0xff) return undefined;
    bytes[at + i] = unit;
  }
  return bytes;
}
