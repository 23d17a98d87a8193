/**
 * graceful-threads: worker threads that can be asked to stop gracefully.
 *
 * @packageDocumentation
 */
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
export { interruptAllThreads, MAX_LIVE_THREADS } from './registry.js';
export { sleep, sleepAsync } from './sleep.js';
export {
  type JoinOptions,
  Thread,
  type ThreadConstructorOptions,
  type ThreadOptions,
  type ThreadResult,
  type ThreadState,
  type ThreadTarget,
} from './thread.js';
export { Barrier } from './waits/barrier.js';
export { Condition } from './waits/condition.js';
export { Event } from './waits/event.js';
export { Lock } from './waits/lock.js';
export { Semaphore, type SemaphoreOptions } from './waits/semaphore.js';
