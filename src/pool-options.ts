/**
 * What a `ThreadPool` takes and tells: its options, those of `run()` and `close()`, its stats and
 * events, and the checks of its arguments.
 */
import { type AsyncInterruptOption, assertTransformInstalled, asyncInterruptStart } from './async-interrupt/options.js';
import { invalidArgType } from './coded-errors.js';
import type { WorkerOptions } from './runtime/node.js';
import { validateCount } from './waits/arguments.js';

/** A function a pool can run: it takes one task (`never`: every one-parameter function fits). */
export type PoolTarget = (task: never) => unknown;

/** Options of {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /** How many workers at most; they start as tasks arrive. Default `os.availableParallelism()`. */
  size?: number;
  /** The export tasks call unless `run()` names another. Default `'default'`. */
  export?: string;
  /** The pool's name; its workers are named `<name>-<n>` (`currentThread().name`). Default `ThreadPool-<n>`. */
  name?: string;
  /**
   * How long a cancelled task may ignore its interrupt before its worker is terminated and
   * replaced (the pool then emits `'workerReplaced'`). Default 1000 ms.
   */
  cancelGraceMs?: number;
  /** A worker idle this long exits (another starts when tasks need it). Default: never. */
  idleTimeoutMs?: number;
  /** How many tasks may wait for a worker; past it `run()` rejects with `ERR_POOL_QUEUE_FULL`. Default: no limit. */
  maxQueue?: number;
  /** The workers' `process.env`. Default: a copy of the parent's. */
  env?: WorkerOptions['env'];
  /** Node options for the workers. Default: the parent's `process.execArgv`. */
  execArgv?: string[];
  /** Appended to the workers' `process.argv`. */
  argv?: unknown[];
  /** Heap and stack limits of each worker. */
  resourceLimits?: WorkerOptions['resourceLimits'];
  /** When true, the workers' stdout is not piped into the parent's automatically. */
  stdout?: boolean;
  /** When true, the workers' stderr is not piped into the parent's automatically. */
  stderr?: boolean;
  /**
   * Lets a cancelled task be interrupted even where it never polls, as the option of the same
   * name of `Thread` (see `ThreadOptions.asyncInterrupt`). Default false.
   */
  asyncInterrupt?: AsyncInterruptOption;
}

/** Options of {@link ThreadPool.run}. */
export interface PoolRunOptions {
  /**
   * Cancels the task: a queued task is dropped, a running one interrupted (it sees
   * `interruptionRequested()`, `checkInterrupt()`, its waits and `interruptionSignal()`). The
   * promise rejects at once with `signal.reason`.
   */
  signal?: AbortSignal;
  /** The export to call for this task. Default: the pool's `export`. */
  export?: string;
  /** Objects in `task` to transfer rather than clone. */
  transferList?: WorkerOptions['transferList'];
}

/** Options of {@link ThreadPool.close}. */
export interface PoolCloseOptions {
  /**
   * Drop the queued tasks (their promises reject with `ERR_POOL_CLOSED`) and interrupt the
   * running ones (theirs reject at once with it too), as Java's `shutdownNow()`. Default false:
   * queued and running tasks finish first.
   */
  cancel?: boolean;
}

/** What {@link ThreadPool.stats} counts: what an operator graphs. */
export interface ThreadPoolStats {
  /** Workers alive now (at most the pool's `size` option, plus any being replaced). */
  readonly size: number;
  /** Workers running a task (a cancelled task that has not ended yet included). */
  readonly busy: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
  /** Tasks that ended by themselves: returned, threw, or lost their worker to a crash. */
  readonly completed: number;
  /** Tasks cancelled, queued or running, by their signal or `close({ cancel: true })`. */
  readonly cancelled: number;
  /** Workers terminated after ignoring an interrupt, or that crashed or exited, and so replaced. */
  readonly replaced: number;
}

/** The payload of the pool's `'workerReplaced'` event. */
export interface WorkerReplacedEvent {
  /** Node's id of the worker terminated. */
  readonly threadId: number;
  /** The export the task called. */
  readonly export: string;
  /** The task, as given to `run()`. */
  readonly task: unknown;
  /** How long the task ran on after its interrupt, in ms (at least `cancelGraceMs`). */
  readonly ignoredMs: number;
}

/** @internal Checks the pool's options (the numbers are checked where they are read). */
export function validateOptions(options: unknown): ThreadPoolOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { export: exportName, name } = options as ThreadPoolOptions;
  if (exportName !== undefined && typeof exportName !== 'string') {
    throw invalidArgType('options.export', 'a string', exportName);
  }
  if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'a string', name);
  if (asyncInterruptStart((options as ThreadPoolOptions).asyncInterrupt, 'options.asyncInterrupt') !== undefined) {
    assertTransformInstalled();
  }
  return options as ThreadPoolOptions;
}

/** @internal Checks `maxQueue`: a count, or Infinity (the default). */
export function validateMaxQueue(value: unknown): number {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return validateCount(value, 'options.maxQueue', 0);
}

/** @internal Checks the options of `run()`. */
export function validateRunOptions(options: unknown): {
  signal: AbortSignal | undefined;
  exportName: string | undefined;
  transferList: WorkerOptions['transferList'];
} {
  if (options === undefined) return { signal: undefined, exportName: undefined, transferList: undefined };
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { signal, export: exportName, transferList } = options as PoolRunOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (exportName !== undefined && typeof exportName !== 'string') {
    throw invalidArgType('options.export', 'a string', exportName);
  }
  if (transferList !== undefined && !Array.isArray(transferList)) {
    throw invalidArgType('options.transferList', 'an array', transferList);
  }
  return { signal, exportName, transferList };
}
