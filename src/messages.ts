/** What a thread's bootstrap tells the thread that started it, on their private port. */
import type { TransferredError } from './error-transfer.js';

/** The target's outcome. */
export type OutcomeMessage =
  | { readonly type: 'result'; readonly value: unknown }
  /** A pool's worker's: a Thread's says it in its slot (`markEndedOnInterrupt`), and its handle reads it there. */
  | { readonly type: 'interrupted' }
  | { readonly type: 'error'; readonly error: TransferredError }
  /** The event loop emptied with the target's promise pending: nothing can settle it any more. */
  | { readonly type: 'unsettled' };

/**
 * What else a thread posts on its report channel: an uncaught error, as it dies of it (Node's
 * `'error'` event brings the error to an awaiting parent; a parent blocked in `joinSync()` reads
 * this instead).
 */
export type CrashMessage = { readonly type: 'crash'; readonly error: TransferredError };

/** Everything a thread posts on its report channel. */
export type ReportMessage = OutcomeMessage | CrashMessage;
