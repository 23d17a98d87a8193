/**
 * The package's third file, loaded on first use like its lazily loaded half (src/lazy.ts): what
 * the light half runs only on a rarer path than reaching the target, such as interrupting
 * (`currentThread().interrupt()`, `interruptAllThreads()`), clearing an interrupt, watching the
 * flag for `interruptionSignal()`, or making a control block (a thread this library did not
 * start, and each thread's first `new Thread()`). A thread this library starts, which only polls
 * its flag, sleeps and ends, never loads it: every KB of code a thread loads costs it start time
 * and memory.
 *
 * In dist/ it is rare.js, which holds its own copy of every module it needs: they hold nothing
 * but constants and functions (scripts/build.mjs checks), so they need no bindings from index.js
 * and it loads even while index.js is still loading.
 */
export { trackAbortListeners } from './abort-listeners.js';
export { allocateSlot, clearInterruptFlag, createControlBlock, liveSlots, requestInterrupt } from './control-block.js';

/** Set once this file has loaded in the calling thread: how tests can tell. */
export const RARE_LOADED_KEY: unique symbol = Symbol.for('graceful-threads.rare-loaded') as never;
(globalThis as Record<symbol, unknown>)[RARE_LOADED_KEY] = true;
