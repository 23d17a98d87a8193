/**
 * graceful-threads: worker threads that can be asked to stop gracefully.
 *
 * @packageDocumentation
 */
// Also each thread's entry: in a thread this library started, it runs the thread's target.
import './bootstrap.js';
import type {
  allowInterruption as allowInterruptionFunction,
  enterAllowInterruption as enterAllowInterruptionFunction,
} from './async-interrupt/regions.js';
import type {
  criticalSection as criticalSectionFunction,
  enterCriticalSection as enterCriticalSectionFunction,
} from './critical-section.js';
import type * as heavyModule from './heavy.js';
import type { interruptAllThreads as interruptAllThreadsFunction } from './interrupt-all.js';
import type { interruptible as interruptibleFunction } from './interruptible.js';
import type { interruptionSignal as interruptionSignalFunction } from './interruption-signal.js';
import { heavy } from './lazy.js';
import { lazyClass } from './lazy-class.js';
import { lazyExport } from './lazy-export.js';
import { rare } from './lazy-rare.js';
import type { PoolTarget, ThreadPool as ThreadPoolClass } from './pool.js';
import type { ShutdownConfig } from './shutdown/config.js';
import type { ShutdownOptions, ShutdownReport } from './shutdown/shutdown.js';
import type { sleepAsync as sleepAsyncFunction } from './sleep-async.js';
import type { Thread as ThreadClass, ThreadTarget } from './thread.js';
import type { Barrier as BarrierClass } from './waits/barrier.js';
import type { Condition as ConditionClass } from './waits/condition.js';
import type { Event as EventClass } from './waits/event.js';
import type { Lock as LockClass } from './waits/lock.js';
import type { Queue as QueueClass } from './waits/queue.js';
import type { Semaphore as SemaphoreClass } from './waits/semaphore.js';

export type { AsyncInterruptConfig, AsyncInterruptOption } from './async-interrupt/options.js';
export type { InterruptionRegion } from './async-interrupt/regions.js';
export { crossThreadNow } from './clock.js';
export type { CodedError, GracefulThreadsErrorCode } from './coded-errors.js';
export type { CriticalSection } from './critical-section.js';
export {
  type CurrentThread,
  checkInterrupt,
  clearInterrupt,
  currentThread,
  interruptionRequested,
} from './current.js';
export { isThreadInterruptedError, ThreadInterruptedError } from './errors.js';
export type {
  PoolCloseOptions,
  PoolRunOptions,
  PoolTarget,
  ThreadPoolOptions,
  ThreadPoolStats,
  WorkerReplacedEvent,
} from './pool.js';
export { MAX_LIVE_THREADS } from './registry.js';
export type { ShutdownConfig, ShutdownSignal } from './shutdown/config.js';
export type {
  EndedThreadRecord,
  ShutdownOptions,
  ShutdownReport,
  TerminatedThreadRecord,
} from './shutdown/shutdown.js';
export { sleep } from './sleep.js';
export type {
  JoinOptions,
  ThreadConstructorOptions,
  ThreadOptions,
  ThreadResult,
  ThreadState,
  ThreadTarget,
} from './thread.js';
export type { FailedThreadInfo, ThreadErrorHandler } from './unobserved-failures.js';
export type { QueueOptions } from './waits/queue.js';
export type { SemaphoreOptions } from './waits/semaphore.js';

// Functions of rare.js (src/rare.ts): each stand-in loads it on its first call.

/**
 * An `AbortSignal` that aborts when the calling thread is interrupted, with a
 * {@link ThreadInterruptedError} as its `reason`: hand it to `fetch`, `fs`, `timers/promises`,
 * streams and anything else that takes a signal (`fetch` rejects with the
 * {@link ThreadInterruptedError} itself, Node's own APIs with an `AbortError` whose `cause` is it;
 * a thread ending on either counts as interrupted). It
 * aborts even while the thread's event loop is idle, with no message needed. Inside a critical
 * section the abort waits for the section to end.
 *
 * While a thread's target runs, anything listening to this signal (an `'abort'` listener, an
 * `onabort` handler, an API it was handed) keeps the thread alive, so a target awaiting only its
 * interruption waits for it; once nothing listens, the thread ends as it would have otherwise.
 * Listeners on a signal derived with `AbortSignal.any()` do not count: that signal follows this
 * one without listening to it.
 *
 * The same signal is returned until it aborts; after {@link clearInterrupt}, a fresh one.
 *
 * @example
 * ```ts
 * const response = await fetch(url, { signal: interruptionSignal() });
 * ```
 */
export const interruptionSignal: typeof interruptionSignalFunction = lazyExport(rare, 'interruptionSignal', 0);

/**
 * Opens a critical section until the returned object is disposed: the `using` form of
 * {@link criticalSection}.
 *
 * @example
 * ```ts
 * {
 *   using _ = enterCriticalSection();
 *   writeHeader(file);
 *   writeBody(file); // an interrupt arriving now waits until the block ends
 * }
 * checkInterrupt(); // throws here if one arrived
 * ```
 */
export const enterCriticalSection: typeof enterCriticalSectionFunction = lazyExport(rare, 'enterCriticalSection', 0);

/**
 * Runs `fn` with interruption deferred: inside, `checkInterrupt()`, `sleep()` and the other
 * interruption points do not throw, and `interruptionSignal()` does not abort; the first of them
 * after the outermost section ends does. `interruptionRequested()` still tells the truth.
 * Sections nest. For an async `fn` the section lasts until its promise settles, and covers
 * everything the thread runs meanwhile.
 *
 * @returns what `fn` returns (for an async function, a promise of its result).
 * @example
 * ```ts
 * criticalSection(() => {
 *   moveFile(tmp, final);
 *   updateIndex(final); // the pair completes even if an interrupt arrives between them
 * });
 * ```
 */
export const criticalSection: typeof criticalSectionFunction = lazyExport(rare, 'criticalSection', 1);

/**
 * Settles as `promise` does, unless the calling thread is interrupted first: then it rejects with
 * the `ThreadInterruptedError` that `interruptionSignal().reason` holds (at once when the
 * thread is already interrupted, even if `promise` has settled). Inside a critical section the
 * rejection waits for the outermost section to end, as `sleepAsync()` does. For APIs that take
 * no `signal` option; an API that takes one should get `interruptionSignal()` instead.
 *
 * It stops the wait, not the operation: whatever `promise` stands for goes on and keeps what it
 * holds (a socket, a file descriptor, a libuv pool thread) until it settles by itself, and its
 * outcome is then dropped (a later rejection is handled, never an `unhandledRejection`). Free the
 * resource in a `finally` or `catch`, e.g. by closing the handle the operation works on.
 *
 * While it waits it listens to the thread's interruption signal, and its listener is removed as
 * soon as `promise` settles, so any number of settled calls leave nothing behind. Like every
 * operation listening to that signal, a pending call keeps a thread alive while its target runs:
 * a target awaiting `interruptible(p)` for a `p` that nothing will settle (a promise of
 * `Atomics.waitAsync`, which holds no event loop open) waits for its interrupt instead of ending
 * with `ERR_THREAD_UNSETTLED`. In the main thread it holds nothing open, as awaiting `promise`
 * would not.
 *
 * @param promise a promise or any other thenable. Anything else rejects with a `TypeError`
 *   (`ERR_INVALID_ARG_TYPE`).
 * @example
 * ```ts
 * import { lookup } from 'node:dns/promises';
 *
 * // lookup() takes no signal: an interrupt ends the wait for it here.
 * const { address } = await interruptible(lookup('example.com'));
 * ```
 */
export const interruptible: typeof interruptibleFunction = lazyExport(rare, 'interruptible', 1);

/**
 * Resolves after `ms` milliseconds, or rejects with {@link ThreadInterruptedError} when the
 * calling thread is interrupted (at once if it already is). Inside a critical section the
 * rejection waits for the section to end. Keeps the event loop alive, as a timer does.
 *
 * @example
 * ```ts
 * while (true) {
 *   await report();
 *   await sleepAsync(60_000);
 * }
 * ```
 */
export const sleepAsync: typeof sleepAsyncFunction = lazyExport(rare, 'sleepAsync', 1);

/**
 * Runs `fn` as a region where an asynchronous interrupt may land: in a thread started with
 * `asyncInterrupt: 'regions'`, the checks the library put into the thread's code throw
 * {@link ThreadInterruptedError} only inside such regions (and never inside a critical section,
 * which wins). In a thread started with `asyncInterrupt: true` everything outside critical
 * sections is such a region already; in other threads it just calls `fn`. Regions nest; for an
 * async `fn` the region lasts until its promise settles.
 *
 * @returns what `fn` returns.
 * @example
 * ```ts
 * // a thread started with new Thread(url, { asyncInterrupt: 'regions' })
 * export default function render(scene: Scene) {
 *   const frame = allowInterruption(() => rayTrace(scene)); // may stop in here, at any loop
 *   saveFrame(frame); // but never here
 * }
 * ```
 */
export const allowInterruption: typeof allowInterruptionFunction = lazyExport(rare, 'allowInterruption', 1);

/**
 * Opens an {@link allowInterruption} region until the returned object is disposed: its `using` form.
 *
 * @example
 * ```ts
 * {
 *   using _ = enterAllowInterruption();
 *   search(tree); // an interrupt may land anywhere in here
 * }
 * ```
 */
export const enterAllowInterruption: typeof enterAllowInterruptionFunction = lazyExport(
  rare,
  'enterAllowInterruption',
  0,
);

/**
 * Interrupts every live thread of the calling thread's group (usually every thread this library
 * started in the process), from any thread of it: threads started by other threads included, the
 * calling thread excluded.
 *
 * @param reason as for `thread.interrupt(reason)`; cloned once, delivered to each thread.
 * @returns how many threads this call interrupted (threads whose flag was already set are not
 *   counted again).
 * @example
 * ```ts
 * process.once('SIGINT', () => {
 *   console.log(`interrupted ${interruptAllThreads('SIGINT')} threads`);
 * });
 * ```
 */
export const interruptAllThreads: typeof interruptAllThreadsFunction = lazyExport(rare, 'interruptAllThreads', 1);

// The classes below live in the package's lazily loaded half (src/lazy.ts): a thread that only
// polls its flag never loads them. Each export is a stand-in that behaves as the class (`new`,
// `instanceof`, `extends`, statics) and loads it on first use; the class documents itself.

/**
 * A worker thread that can be asked to stop gracefully (see the class {@link ThreadClass}).
 *
 * @example
 * ```ts
 * const thread = new Thread(new URL('./crunch.js', import.meta.url), { args: [items] }).start();
 * thread.interrupt();
 * await thread.join();
 * ```
 */
export const Thread: typeof ThreadClass = lazyClass('Thread');
export type Thread<Target extends ThreadTarget = (...args: unknown[]) => unknown> = ThreadClass<Target>;

/**
 * A lock between threads whose waits are interruption points (see the class {@link LockClass}).
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * {
 *   using _ = lock.hold();
 *   counter[0]++;
 * }
 * ```
 */
export const Lock: typeof LockClass = lazyClass('Lock');
export type Lock = LockClass;

/**
 * A one-way flag between threads that can be waited for (see the class {@link EventClass}).
 *
 * @example
 * ```ts
 * const ready = new Event();
 * ready.set(); // in one thread
 * ready.wait(); // in another, given `ready` in its args
 * ```
 */
export const Event: typeof EventClass = lazyClass('Event');
export type Event = EventClass;

/**
 * A counting semaphore between threads (see the class {@link SemaphoreClass}).
 *
 * @example
 * ```ts
 * const connections = new Semaphore(4); // at most 4 at once, across all threads
 * connections.acquire();
 * try { await query(); } finally { connections.release(); }
 * ```
 */
export const Semaphore: typeof SemaphoreClass = lazyClass('Semaphore');
export type Semaphore = SemaphoreClass;

/**
 * A bounded queue of structured-cloneable values between threads, through shared memory (see the
 * class {@link QueueClass}).
 *
 * @example
 * ```ts
 * const jobs = new Queue<Job>({ capacity: 64 });
 * jobs.put({ id: 1 }); // in a producer
 * for (const job of jobs) handle(job); // in a consumer: until jobs.close() and drained
 * ```
 */
export const Queue: typeof QueueClass = lazyClass('Queue');
export type Queue<T = unknown> = QueueClass<T>;

/**
 * A condition variable between threads, bound to a {@link Lock} (see the class {@link ConditionClass}).
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * const changed = new Condition(lock);
 * ```
 */
export const Condition: typeof ConditionClass = lazyClass('Condition');
export type Condition = ConditionClass;

/**
 * A barrier a fixed number of threads wait at until all have arrived (see the class {@link BarrierClass}).
 *
 * @example
 * ```ts
 * const barrier = new Barrier(4);
 * barrier.wait(); // in each of the 4 threads
 * ```
 */
export const Barrier: typeof BarrierClass = lazyClass('Barrier');
export type Barrier = BarrierClass;

// Functions of the lazily loaded half: each loads it on its first call.

/**
 * Stops every thread the program started, gracefully: interrupts them all at once, waits up to
 * `graceMs` (default 5000) for them to end, terminates the rest and reports where each was
 * stuck. Does not exit the process. See {@link ShutdownOptions} and {@link ShutdownReport}.
 *
 * @example
 * ```ts
 * server.close();
 * const { ended, terminated } = await shutdown({ graceMs: 10_000 });
 * ```
 */
export const shutdown: typeof heavyModule.shutdown = lazyExport(heavy, 'shutdown', 1);

/**
 * Changes or turns off the automatic shutdown on signals, `process.exit()` and uncaught errors
 * (see {@link ShutdownConfig}).
 *
 * @example
 * ```ts
 * configureShutdown({ graceMs: 10_000, signals: ['SIGINT', 'SIGTERM'] });
 * ```
 */
export const configureShutdown: typeof heavyModule.configureShutdown = lazyExport(heavy, 'configureShutdown', 1);

/**
 * Replaces the default report (on stderr) of a failure of a thread nobody joins; `undefined`
 * restores it.
 *
 * @example
 * ```ts
 * setThreadErrorHandler((error, thread) => logger.error({ thread: thread.name, error }));
 * ```
 */
export const setThreadErrorHandler: typeof heavyModule.setThreadErrorHandler = lazyExport(
  heavy,
  'setThreadErrorHandler',
  1,
);

/**
 * A pool of worker threads whose running tasks are cancelled by interrupting them, keeping the
 * worker (see the class {@link ThreadPoolClass}).
 *
 * @example
 * ```ts
 * await using pool = new ThreadPool<typeof resize>(new URL('./resize.js', import.meta.url));
 * const thumb = await pool.run({ path: 'a.png' }, { signal: AbortSignal.timeout(5000) });
 * ```
 */
export const ThreadPool: typeof ThreadPoolClass = lazyClass('ThreadPool');
export type ThreadPool<Target extends PoolTarget = (task: unknown) => unknown> = ThreadPoolClass<Target>;
