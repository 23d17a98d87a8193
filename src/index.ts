/**
 * graceful-threads: worker threads that can be asked to stop gracefully.
 *
 * @packageDocumentation
 */
// Also each thread's entry: in a thread this library started, it runs the thread's target.
import './bootstrap.js';
import { heavy } from './lazy.js';
import { lazyClass } from './lazy-class.js';
import type { PoolTarget, ThreadPool as ThreadPoolClass } from './pool.js';
import type { ShutdownConfig } from './shutdown/config.js';
import type { ShutdownOptions, ShutdownReport } from './shutdown/shutdown.js';
import type { Thread as ThreadClass, ThreadTarget } from './thread.js';
import type { ThreadErrorHandler } from './unobserved-failures.js';
import type { Barrier as BarrierClass } from './waits/barrier.js';
import type { Condition as ConditionClass } from './waits/condition.js';
import type { Event as EventClass } from './waits/event.js';
import type { Lock as LockClass } from './waits/lock.js';
import type { Queue as QueueClass } from './waits/queue.js';
import type { Semaphore as SemaphoreClass } from './waits/semaphore.js';

export type { AsyncInterruptConfig, AsyncInterruptOption } from './async-interrupt/options.js';
export { allowInterruption, enterAllowInterruption, type InterruptionRegion } from './async-interrupt/regions.js';
export { crossThreadNow } from './clock.js';
export {
  type CriticalSection,
  type CurrentThread,
  checkInterrupt,
  clearInterrupt,
  criticalSection,
  currentThread,
  enterCriticalSection,
  interruptionRequested,
  interruptionSignal,
} from './current.js';
export {
  type CodedError,
  type GracefulThreadsErrorCode,
  isThreadInterruptedError,
  ThreadInterruptedError,
} from './errors.js';
export { interruptible } from './interruptible.js';
export type {
  PoolCloseOptions,
  PoolRunOptions,
  PoolTarget,
  ThreadPoolOptions,
  ThreadPoolStats,
  WorkerReplacedEvent,
} from './pool.js';
export { interruptAllThreads, MAX_LIVE_THREADS } from './registry.js';
export type { ShutdownConfig, ShutdownSignal } from './shutdown/config.js';
export type {
  EndedThreadRecord,
  ShutdownOptions,
  ShutdownReport,
  TerminatedThreadRecord,
} from './shutdown/shutdown.js';
export { sleep, sleepAsync } from './sleep.js';
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
export function shutdown(options?: ShutdownOptions): Promise<ShutdownReport> {
  return heavy().shutdown(options);
}

/**
 * Changes or turns off the automatic shutdown on signals, `process.exit()` and uncaught errors
 * (see {@link ShutdownConfig}).
 *
 * @example
 * ```ts
 * configureShutdown({ graceMs: 10_000, signals: ['SIGINT', 'SIGTERM'] });
 * ```
 */
export function configureShutdown(config: ShutdownConfig): void {
  heavy().configureShutdown(config);
}

/**
 * Replaces the default report (on stderr) of a failure of a thread nobody joins; `undefined`
 * restores it.
 *
 * @example
 * ```ts
 * setThreadErrorHandler((error, thread) => logger.error({ thread: thread.name, error }));
 * ```
 */
export function setThreadErrorHandler(fn: ThreadErrorHandler | undefined): void {
  heavy().setThreadErrorHandler(fn);
}

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
