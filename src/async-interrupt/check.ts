/**
 * The check the transform inserts, the globals it reads, and how many iterations may pass
 * between two of them. Shared by the walk (./transform.ts), the loop rewrites (./loop-rewrite.ts),
 * the counted-loop analysis (./counted-loops.ts) and the cache key (./instrument-module.ts).
 */

/** The global the check reads: the thread's flag word, an Int32Array (./install.ts defines it). */
export const FLAG_GLOBAL = '__graceful_flag';
/** The global the check calls when the flag is set: it decides whether to throw (./install.ts). */
export const TRAP_GLOBAL = '__graceful_trap';

/** Back-edges a strip-mined loop runs between two checks of the flag. */
export const CHUNK = 2048;
/**
 * Iterations between two checks when the loop calls something: a call to a function of the
 * thread's own checks itself if it can run long, but a native one (`JSON.parse`) may not.
 */
export const CHUNK_WITH_CALLS = 64;
/** A counted loop with at most this many iterations (a constant) is not checked. */
export const SMALL_TRIP_COUNT = 1024;

/** The check as an expression: the slow path (the trap) only when the flag's bit 0 is set. */
export const CHECK_EXPRESSION = `${FLAG_GLOBAL}[0]&1&&${TRAP_GLOBAL}()`;
/** The check as a statement. */
export const CHECK = `${CHECK_EXPRESSION};`;
