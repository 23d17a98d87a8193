/**
 * The error a runtime's codec (src/runtime/*-codec.ts) throws for a value `structuredClone` would
 * accept but bytes in shared memory cannot hold: one class, whichever runtime's codec is built in.
 */

/** Why `encodeValue` refused a value that `structuredClone` would accept. */
export type BytesRefusal = 'shared-memory' | 'message-only';

/** Thrown by `encodeValue` for a value `structuredClone` accepts but bytes cannot hold. */
export class BytesCloneError extends Error {
  override readonly name = 'DataCloneError';

  /**
   * @param refusal `'shared-memory'` for a `SharedArrayBuffer` (or a view of one), `'message-only'`
   *   for an object the runtime clones only through a `MessagePort` (`BlockList`, `KeyObject`, `Blob`, ...).
   * @param className the class of the refused object.
   */
  constructor(
    readonly refusal: BytesRefusal,
    readonly className: string,
  ) {
    super(
      refusal === 'shared-memory'
        ? `#<${className}> is ${className === 'SharedArrayBuffer' ? '' : 'a view of '}shared memory (a SharedArrayBuffer), which bytes cannot hold`
        : `#<${className}> can be structured-cloned only through a MessagePort, not stored as bytes`,
    );
  }
}
