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
 * Also the public functions a thread calls only to do more than poll its flag, sleep and end
 * (`interruptionSignal()`, `criticalSection()`, `interruptible()`, `sleepAsync()`, the
 * `allowInterruption` regions, `interruptAllThreads()`), and the errors of a
 * target that cannot be loaded: index.js exports forwarders in their place (src/rare-export.ts).
 *
 * In dist/ it is rare.js. As heavy.js does, it takes the bindings of the modules index.js holds
 * from index.js as it loads (scripts/build.mjs, src/lazy-require.ts), so it cannot load before
 * index.js has; it holds its own copy of the others, which hold no state index.js or heavy.js
 * also holds (the build checks).
 */
export { allowInterruption, enableAsyncInterrupt, enterAllowInterruption } from './async-interrupt/regions.js';
export { clearInterruptFlag, liveSlots, requestInterrupt } from './control-block.js';
export { criticalSection, enterCriticalSection } from './critical-section.js';
export { delayError } from './delay-error.js';
export { interruptAllThreads } from './interrupt-all.js';
export { interruptible } from './interruptible.js';
export { abortSignalIfInterrupted, interruptionSignal } from './interruption-signal.js';
export { sleepAsync } from './sleep-async.js';
export { resultNotCloneableError, targetExportError, targetLoadError } from './target-errors.js';

/** Set once this file has loaded in the calling thread: how tests can tell. */
export const RARE_LOADED_KEY: unique symbol = Symbol.for('graceful-threads.rare-loaded') as never;
(globalThis as Record<symbol, unknown>)[RARE_LOADED_KEY] = true;
