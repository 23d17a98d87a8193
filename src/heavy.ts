/**
 * The package's lazily loaded half (src/lazy.ts says why): the classes a thread that merely
 * polls its flag never uses (`Thread` and the waits), the rebuilding of errors across threads and
 * the structured-clone codec of interrupt reasons. In dist/ it is heavy.js, which imports what it
 * shares with the light half from index.js rather than carrying copies of it.
 */
export { describeError, thrownText } from './error-transfer.js';
export { closeAllPools, ThreadPool } from './pool.js';
export { servePool } from './pool-worker.js';
export { encodeReason } from './reason.js';
export { decodeValue } from './runtime/node-codec.js';
export { configureShutdown } from './shutdown/config.js';
export { shutdown } from './shutdown/shutdown.js';
export { Thread } from './thread.js';
export { setThreadErrorHandler } from './unobserved-failures.js';
export { Barrier } from './waits/barrier.js';
export { Condition } from './waits/condition.js';
export { Event } from './waits/event.js';
export { Lock } from './waits/lock.js';
export { Queue } from './waits/queue.js';
export { Semaphore } from './waits/semaphore.js';
export { unpack } from './waits/transfer.js';

/** Set once this half has loaded in the calling thread: how tests (and curious users) can tell. */
export const HEAVY_LOADED_KEY: unique symbol = Symbol.for('graceful-threads.heavy-loaded') as never;
(globalThis as Record<symbol, unknown>)[HEAVY_LOADED_KEY] = true;
