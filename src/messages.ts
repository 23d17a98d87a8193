/** What a thread's bootstrap tells the thread that started it, on their private port. */
import type { TransferredError } from './error-transfer.js';

/** The target's outcome. */
export type OutcomeMessage =
  | { readonly type: 'result'; readonly value: unknown }
  | { readonly type: 'interrupted' }
  | { readonly type: 'error'; readonly error: TransferredError }
  /** The event loop emptied with the target's promise pending: nothing can settle it any more. */
  | { readonly type: 'unsettled' };
