/**
 * The package's third file, loaded on first use like its lazily loaded half (src/lazy.ts): what
 * the light half runs only on a rarer path than reaching the target, such as interrupting
 * (`currentThread().interrupt()`, `interruptAllThreads()`), clearing an interrupt, or watching
 * the flag for `interruptionSignal()`. A thread this library starts, which only polls its flag,
 * sleeps and ends, never loads it: every KB of code a thread loads costs it start time and
 * memory. Nor does index.js load it as it loads: loading a file synchronously compiles Node's
 * CommonJS loader in the thread (measured +0.2 MiB a thread on Node 26), which a worker that
 * merely imports the package should not pay.
 *
 * In dist/ it is rare.js, which holds its own copy of every module it needs: they hold nothing
 * but constants and functions (scripts/build.mjs checks), so it needs no bindings from index.js.
 */
export { trackAbortListeners } from './abort-listeners.js';
export { clearInterruptFlag, liveSlots, requestInterrupt } from './control-block.js';

/** Set once this file has loaded in the calling thread: how tests can tell. */
export const RARE_LOADED_KEY: unique symbol = Symbol.for('graceful-threads.rare-loaded') as never;
(globalThis as Record<symbol, unknown>)[RARE_LOADED_KEY] = true;
