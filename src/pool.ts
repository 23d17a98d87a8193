/**
 * ThreadPool: a pool of worker threads running a module's export on tasks, as piscina does, whose
 * running tasks are cancelled by interrupting them (the thread's flag) rather than by killing
 * their worker.
 *
 * Each worker is a thread of this library (a slot in the registry, so `interruptAllThreads()`
 * reaches its task) started in the bootstrap's pool mode (src/pool-worker.ts): it loads the
 * module once and runs one task at a time, sent by the pool. Only the pool dispatches, on its own
 * thread, and a worker is sent its next task only once its last one has ended. So a cancel, which
 * runs on the pool's thread too, always knows which task a worker runs: it interrupts a worker
 * only while that worker's current task is the cancelled one, never the task after it. The flag
 * is cleared as the pool dispatches (a cancel that landed after its task ended, or an
 * `interruptAllThreads()` of an idle worker, is dropped there), before the task is posted, so a
 * cancel of the task just dispatched is never lost. A worker that ends a cancelled task with the
 * next one already in hand reports no outcome for it: the next task's outcome, or the worker's
 * RUNNING_TASK word (read before a replacement, claimed with compare-and-swap), says it ended.
 */

import { type AsyncInterruptStart, asyncInterruptStart } from './async-interrupt/options.js';
import { codedError, invalidArgType } from './coded-errors.js';
import {
  allocateSlot,
  type ControlBlock,
  clearInterruptFlag,
  markBusy,
  releaseSlot,
  requestInterrupt,
  type SlotRef,
  setNativeThreadId,
  setSlotName,
} from './control-block.js';
import { rebuildError, type TransferredError } from './error-transfer.js';
import {
  type PoolCloseOptions,
  type PoolRunOptions,
  type PoolTarget,
  type ThreadPoolOptions,
  type ThreadPoolStats,
  validateMaxQueue,
  validateOptions,
  validateRunOptions,
  type WorkerReplacedEvent,
} from './pool-options.js';
import { reasonBytes } from './pool-reason.js';
import {
  CANCELLED_TASK,
  CLOSE_WORKER,
  POOL_CANCELLED,
  POOL_WORDS,
  REPLACING,
  RUNNING_TASK,
  type TaskMessage,
  type TaskOutcome,
} from './pool-worker.js';
import { ensureRegistry, MAX_LIVE_THREADS } from './registry.js';
import { isMainThread, startWorker, threadEntry, type Worker, type WorkerOptions } from './runtime/node.js';
import { availableParallelism, EventEmitter, openTaskChannel, type TaskChannel } from './runtime/node-pool.js';
import { installShutdownHooks } from './shutdown/process-hooks.js';
import { type RunningThread, runningThreads } from './shutdown/running-threads.js';
import { validateModule } from './thread.js';
import { callerIn, START_KEY, type StartData } from './thread-state.js';
import { validateCount, validateTimeout } from './waits/arguments.js';

export type { PoolCloseOptions, PoolRunOptions, PoolTarget, ThreadPoolOptions, ThreadPoolStats, WorkerReplacedEvent };

interface Job {
  readonly id: number;
  readonly task: unknown;
  readonly exportName: string | undefined;
  readonly transferList: WorkerOptions['transferList'];
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** What it was expected to take when sent to a worker (0 once cancelled: it is ending). */
  estimateMs: number;
  /** Set once its promise has settled: nothing settles it again. */
  settled: boolean;
  /** The worker running it, once dispatched. */
  worker: PoolWorker | undefined;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly channel: TaskChannel;
  readonly slot: SlotRef;
  readonly threadId: number;
  /** The words it shares with the pool (src/pool-worker.ts, `POOL_WORDS`). */
  readonly words: Int32Array;
  /**
   * The tasks sent to it whose end it has not reported (a cancelled one included), in the order
   * it runs them: the first runs.
   */
  readonly jobs: Job[];
  /** What its tasks are expected to take, in ms (see {@link PIPELINE_BUDGET_MS}). */
  estimateMs: number;
  /** Terminated (ignored an interrupt), or told to exit: it takes no more tasks. */
  leaving: boolean;
  /** Terminated by the pool after ignoring an interrupt. */
  replaced: boolean;
  /** Referenced: it keeps the pool's thread alive. */
  held: boolean;
  crash: { readonly error: unknown } | undefined;
  /** Its entry in `runningThreads`, for a shutdown. */
  running: (RunningThread & { readonly markExited: () => void }) | undefined;
  /**
   * When its running task was cancelled (performance.now()), while the grace period runs: the
   * pool's watchdog replaces it once that is `cancelGraceMs` ago.
   */
  interruptedAt: number | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while a promise reaction is on its way to release it (see {@link ThreadPool.#free}). */
  releasing: boolean;
}

/**
 * How much work, in expected ms, a worker may be sent beyond the task it runs. Tasks that short
 * (and without a signal) are sent several at once, so the worker runs them back to back instead of
 * idling a round trip to the pool between them (about 20-40 us, more than a trivial task takes).
 * Kept at a millisecond so that a worker never holds much work another idle worker could do.
 */
const PIPELINE_BUDGET_MS = 1;
/** At most this many tasks sent to one worker at once. */
const PIPELINE_MAX_TASKS = 64;
/** The expected run time of a task of an export none has run yet: over the budget. */
const UNKNOWN_MS = 1e9;
/** Task ids go from 1 to this and round again: they fit the workers' shared words. */
const MAX_TASK_ID = 0x7fffffff;
const settledPromise = Promise.resolve();
/** The longest delay a Node timer takes (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;

// A worker's entry is the package's own, as a thread's is (src/bootstrap.ts).
const entryUrl = threadEntry(import.meta.url);
let poolCounter = 0;
/** The pools of this thread that have workers: what a whole-program shutdown closes. */
const poolsWithWorkers = new Set<ThreadPool<PoolTarget>>();

/**
 * @internal Closes every pool of the calling thread that has workers, for a whole-program
 * shutdown: `interruptAllThreads()` reaches their running tasks, but an idle worker waits for
 * tasks until its pool closes it. Resolves once their workers have exited.
 */
// Parenthesized: compiled with the module, not on a signal, where it is the first thing the
// shutdown calls, ahead of the threads' interrupt (a rehearsal cannot call it: it closes the pools).
// biome-ignore format: the parentheses are V8's eager-compilation hint
export const closeAllPools = (function closeAllPools(options?: PoolCloseOptions): Promise<void> {
  // No pool (most programs): no promises to make on a signal, ahead of the threads' interrupt.
  if (poolsWithWorkers.size === 0) return Promise.resolve();
  return Promise.all([...poolsWithWorkers].map((pool) => pool.close(options))).then(() => {});
});

/** @internal Whether a pool of the calling thread has workers (a whole-program shutdown asks). */
export function poolsOpen(): boolean {
  return poolsWithWorkers.size > 0;
}

function closedError(name: string, what: string): Error {
  return codedError(Error, 'ERR_POOL_CLOSED', `ThreadPool "${name}" is closed: ${what}.`);
}

/**
 * A pool of worker threads that run a module's export on tasks, as piscina's does, whose running
 * tasks are cancelled cooperatively: aborting a task's signal interrupts it (the thread's flag,
 * `checkInterrupt()`, `interruptionSignal()`...), and its worker, kept, takes the next task once
 * the cancelled one has ended, its `finally` blocks run. A task that ignores the interrupt for
 * `cancelGraceMs` has its worker terminated and replaced (event `'workerReplaced'`).
 *
 * Type it with the task function to type `run()`:
 *
 * @example
 * ```ts
 * import { ThreadPool } from 'graceful-threads';
 * import type resize from './resize.js';
 *
 * await using pool = new ThreadPool<typeof resize>(new URL('./resize.js', import.meta.url), { size: 4 });
 * const controller = new AbortController();
 * const thumb = pool.run({ path: 'a.png', width: 200 }, { signal: controller.signal });
 * controller.abort(); // the task sees interruptionRequested(); `thumb` rejects with the reason
 * ```
 *
 * @typeParam Target - the type of the export tasks call (`typeof fn`), from which the task and
 *   the result of `run()` are typed. Without it both are `unknown`.
 */
export class ThreadPool<Target extends PoolTarget = (task: unknown) => unknown> extends EventEmitter {
  readonly #moduleHref: string;
  readonly #options: ThreadPoolOptions;
  readonly #name: string;
  readonly #size: number;
  readonly #exportName: string;
  readonly #graceMs: number;
  readonly #idleMs: number;
  readonly #maxQueue: number;
  readonly #asyncInterrupt: AsyncInterruptStart | undefined;
  #registry: ControlBlock | undefined;
  /** Set by `close({ cancel: true })`: each worker's POOL_CANCELLED word is 1 from then on. */
  #cancelledAll = false;
  readonly #workers = new Set<PoolWorker>();
  /** Workers replaced and terminated, until they have exited. */
  readonly #terminating = new Set<PoolWorker>();
  /** Idle workers, the last one freed on top: the warmest takes the next task. */
  readonly #idle: PoolWorker[] = [];
  /** Waiting tasks, from #head on; a cancelled one stays in place, settled, and is skipped. */
  #queue: (Job | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #nextId = 1;
  #workerNumber = 0;
  #completed = 0;
  #cancelled = 0;
  #replaced = 0;
  /** How long a task of each export takes, in ms (a moving average of what workers measured). */
  readonly #taskMs = new Map<string, number>();
  /**
   * The grace periods' one timer, armed for the earliest end of a grace period that runs (see
   * {@link ThreadPool.#interrupt}), else undefined. Unreferenced: a worker whose cancelled task
   * runs on is referenced, and keeps the thread alive until it fires.
   */
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** Set while a promise reaction is on its way to arm the watchdog. */
  #arming = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  /**
   * @param module the module whose export tasks call: an absolute path, a path starting with
   *   `./` or `../` (relative to the working directory), or a URL.
   * @param options see {@link ThreadPoolOptions}.
   * @throws `TypeError` (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`) or `RangeError`
   *   (`ERR_OUT_OF_RANGE`) for bad arguments.
   */
  constructor(module: string | URL, options?: ThreadPoolOptions) {
    super();
    this.#moduleHref = validateModule(module).href;
    this.#options = validateOptions(options);
    const { size, cancelGraceMs, idleTimeoutMs, maxQueue } = this.#options;
    this.#size =
      size === undefined
        ? Math.min(availableParallelism(), MAX_LIVE_THREADS)
        : validateCount(size, 'options.size', 1, MAX_LIVE_THREADS);
    this.#graceMs = cancelGraceMs === undefined ? 1000 : validateTimeout(cancelGraceMs, 'options.cancelGraceMs');
    this.#idleMs = validateTimeout(idleTimeoutMs, 'options.idleTimeoutMs');
    this.#maxQueue = validateMaxQueue(maxQueue);
    this.#asyncInterrupt = asyncInterruptStart(this.#options.asyncInterrupt, 'options.asyncInterrupt');
    this.#name = this.#options.name ?? `ThreadPool-${++poolCounter}`;
    this.#exportName = this.#options.export ?? 'default';
  }

  /** The pool's name. */
  get name(): string {
    return this.#name;
  }

  /** What the pool is doing, and has done (see {@link ThreadPoolStats}). */
  get stats(): ThreadPoolStats {
    let busy = 0;
    for (const w of this.#workers) if (w.jobs.length > 0) busy++;
    return {
      size: this.#workers.size,
      busy,
      queued: this.#queued,
      completed: this.#completed,
      cancelled: this.#cancelled,
      replaced: this.#replaced,
    };
  }

  /**
   * Runs the pool's export (or `options.export`) on `task` in a worker: `task` is
   * structured-cloned into it, and the export's result (awaited) back.
   *
   * @returns a promise of the export's result; it rejects with what the export threw, with
   *   `signal.reason` once `options.signal` aborts, with `ERR_POOL_QUEUE_FULL` when `maxQueue`
   *   tasks already wait, with `ERR_POOL_CLOSED` after `close()`, and with the worker's error when
   *   the worker running it crashed or exited.
   * @example
   * ```ts
   * const sum = await pool.run([1, 2, 3], { signal: AbortSignal.timeout(5000) });
   * ```
   */
  run(task: Parameters<Target>[0], options?: PoolRunOptions): Promise<Awaited<ReturnType<Target>>> {
    let signal: AbortSignal | undefined;
    let exportName: string | undefined;
    let transferList: WorkerOptions['transferList'];
    try {
      ({ signal, exportName, transferList } = validateRunOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closing) return Promise.reject(closedError(this.#name, 'run() was called after close()'));
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.#queued >= this.#maxQueue && this.#idle.length === 0 && this.#workers.size >= this.#size) {
      return Promise.reject(
        codedError(
          Error,
          'ERR_POOL_QUEUE_FULL',
          `ThreadPool "${this.#name}" has ${this.#queued} tasks waiting, its maxQueue. Wait for some to finish (await them), or create the pool with a larger maxQueue.`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.#takeId(),
        task,
        exportName,
        transferList,
        signal,
        onAbort: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
        settled: false,
        worker: undefined,
        estimateMs: 0,
      };
      if (signal !== undefined) {
        job.onAbort = () => {
          // Removed by the signal as it called it: #settle need not look for it (3-5 us there).
          job.onAbort = undefined;
          this.#cancel(job, signal.reason);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#queued++;
      this.#pump();
    });
  }

  /**
   * Closes the pool: `run()` rejects with `ERR_POOL_CLOSED` from now on. Queued and running tasks
   * finish first; with `{ cancel: true }` the queued ones are dropped and the running ones
   * interrupted (their promises reject with `ERR_POOL_CLOSED`). Resolves once every worker has
   * exited. Calling it again returns the same promise (a later `cancel: true` still cancels).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => pool.close({ cancel: true }));
   * ```
   */
  close(options?: PoolCloseOptions): Promise<void> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      return Promise.reject(invalidArgType('options', 'an object', options));
    }
    const cancel = options?.cancel;
    if (cancel !== undefined && typeof cancel !== 'boolean') {
      return Promise.reject(invalidArgType('options.cancel', 'a boolean', cancel));
    }
    this.#closing = true;
    this.#closed ??= new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    if (cancel === true) {
      const reason = closedError(this.#name, 'close({ cancel: true }) cancelled the task');
      // Before the interrupts: a task sent behind others then either sees this word as it would
      // start, and does not, or finds its flag set by the interrupt (src/pool-worker.ts).
      this.#cancelledAll = true;
      for (const w of this.#workers) Atomics.store(w.words, POOL_CANCELLED, 1);
      for (const w of this.#workers) {
        // The task running may be one sent behind a task cancelled before: interrupt it too.
        if (w.jobs[0]?.settled === true && w.jobs.some((job) => !job.settled)) this.#interrupt(w, reasonBytes(reason));
      }
      for (let i = this.#head; i < this.#queue.length; i++) {
        const job = this.#queue[i];
        if (job !== undefined && !job.settled) this.#cancel(job, reason);
      }
      this.#queue = [];
      this.#head = 0;
      for (const w of this.#workers) for (const job of [...w.jobs]) this.#cancel(job, reason);
    }
    for (const w of this.#workers) {
      // Until they have exited: a caller awaiting close() must not see its process end first.
      this.#hold(w, true);
      if (w.jobs.length === 0 && this.#queued === 0) this.#retire(w);
    }
    this.#checkClosed();
    return this.#closed;
  }

  /**
   * `await using` support: leaving the scope closes the pool (`close()`, letting tasks finish).
   *
   * @example
   * ```ts
   * {
   *   await using pool = new ThreadPool(new URL('./task.js', import.meta.url));
   *   await pool.run(1);
   * } // closed here, its workers exited
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Dispatches queued tasks: one to each idle worker (starting workers up to `size`), then, for
   * short tasks without a signal, more to busy workers (see {@link PIPELINE_BUDGET_MS}).
   */
  #pump(): void {
    while (this.#queued > 0) {
      let w = this.#idle.pop();
      if (w === undefined) {
        if (this.#workers.size >= this.#size) break;
        try {
          w = this.#spawn();
        } catch (error) {
          // The task it was for gets the error (ERR_THREAD_LIMIT, bad execArgv...).
          const job = this.#dequeue();
          if (job !== undefined) this.#settle(job, false, error, false);
          continue;
        }
      }
      const job = this.#dequeue();
      if (job === undefined) {
        this.#idle.push(w);
        return;
      }
      this.#dispatch(w, job);
    }
    for (const w of this.#workers) {
      if (this.#queued === 0) return;
      this.#topUp(w);
    }
  }

  /** The next queued task not cancelled meanwhile, left in the queue. */
  #peek(): Job | undefined {
    while (this.#head < this.#queue.length) {
      const job = this.#queue[this.#head];
      if (job !== undefined && !job.settled) return job;
      this.#queue[this.#head++] = undefined;
    }
    return undefined;
  }

  /** The next queued task not cancelled meanwhile. */
  #dequeue(): Job | undefined {
    const job = this.#peek();
    if (job === undefined) return undefined;
    this.#queue[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#queued--;
    return job;
  }

  /** Puts tasks a worker will not run back at the head of the queue, in their order. */
  #requeue(jobs: readonly Job[]): void {
    const waiting = jobs.filter((job) => !job.settled);
    for (const job of waiting) job.worker = undefined;
    this.#queue = [...waiting, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#queued += waiting.length;
  }

  /** What a task of this export is expected to take, in ms: over the budget until one ran. */
  #estimate(job: Job): number {
    return this.#taskMs.get(job.exportName ?? this.#exportName) ?? UNKNOWN_MS;
  }

  /**
   * Sends a busy worker more tasks, behind the ones it has, while they are short and have no
   * signal: it runs them back to back instead of waiting for the pool between them. A task with
   * a signal only ever goes to a worker with nothing else, so that a cancel always knows which
   * task it interrupts; once that task is cancelled (no other cancel can come for it), a task may
   * go behind it, to start the moment it has ended. A task that ignores its interrupt is
   * replaced, and the tasks behind it go back to the queue.
   */
  #topUp(w: PoolWorker): void {
    if (w.leaving || w.jobs.length === 0) return;
    const first = w.jobs[0]!;
    if (first.signal !== undefined && !first.settled) return;
    while (w.jobs.length < PIPELINE_MAX_TASKS) {
      const next = this.#peek();
      if (next === undefined || next.signal !== undefined) return;
      const estimate = this.#estimate(next);
      if (w.estimateMs + estimate > PIPELINE_BUDGET_MS) return;
      this.#dequeue();
      this.#dispatch(w, next);
    }
  }

  #dispatch(w: PoolWorker, job: Job): void {
    if (w.idleTimer !== undefined) {
      clearTimeout(w.idleTimer);
      w.idleTimer = undefined;
    }
    const behind = w.jobs.length > 0;
    // Cleared before the task is posted: whatever set the flag since the last task ended (a
    // cancel that came after that task's end, interruptAllThreads() while idle) is dropped, and
    // a cancel of this task, from now on, stays set until the task sees it. A task sent behind
    // others is cleared for by the worker as it starts it (`behind`).
    if (!behind) {
      clearInterruptFlag(this.#registry!, w.slot);
      // A cancel that came after its task had ended is not this task's (ids wrap at 2^31 - 1).
      Atomics.store(w.words, CANCELLED_TASK, 0);
    }
    // Busy from now, for a shutdown in the process's 'exit' that would count it done while idle.
    markBusy(this.#registry!, w.slot);
    try {
      w.channel.post([job.id, job.exportName, job.task, behind] satisfies TaskMessage, job.transferList);
    } catch (error) {
      if (!behind) this.#free(w);
      this.#settle(
        job,
        false,
        (error as { name?: unknown } | null)?.name === 'DataCloneError'
          ? codedError(
              TypeError,
              'ERR_THREAD_ARGS_NOT_CLONEABLE',
              `The task cannot be structured-cloned into a worker of ThreadPool "${this.#name}" (${(error as Error).message.replace(/\.+$/, '')}). Pass plain data, SharedArrayBuffers, or transferables listed in transferList.`,
              error,
            )
          : error,
        false,
      );
      return;
    }
    job.worker = w;
    w.jobs.push(job);
    job.estimateMs = this.#estimate(job);
    w.estimateMs += job.estimateMs;
    this.#hold(w, true);
  }

  /** Whether the worker keeps the pool's thread alive: while it has a task, or is closing. */
  #hold(w: PoolWorker, held: boolean): void {
    if (w.held === held) return;
    w.held = held;
    if (held) {
      w.worker.ref();
      w.channel.ref();
    } else {
      w.worker.unref();
      w.channel.unref();
    }
  }

  #spawn(): PoolWorker {
    const registry = ensureRegistry();
    this.#registry = registry;
    const slot = allocateSlot(registry, callerIn(registry));
    if (slot === undefined) {
      throw codedError(
        RangeError,
        'ERR_THREAD_LIMIT',
        `ThreadPool "${this.#name}" cannot start a worker: ${registry.capacity} threads are alive. Join or terminate some threads, or use a smaller pool.`,
      );
    }
    const name = `${this.#name}-${++this.#workerNumber}`;
    const words = new Int32Array(new SharedArrayBuffer(POOL_WORDS * Int32Array.BYTES_PER_ELEMENT));
    if (this.#cancelledAll) words[POOL_CANCELLED] = 1;
    let w: PoolWorker | undefined;
    const channel = openTaskChannel((message) => {
      if (w !== undefined) this.#onOutcome(w, message);
    });
    const start: StartData = {
      registry: registry.memory,
      slot: slot.slot,
      gen: slot.gen,
      name,
      moduleHref: this.#moduleHref,
      exportName: this.#exportName,
      args: [],
      shared: false,
      port: channel.threadEnd,
      pool: words,
      ...(this.#asyncInterrupt === undefined ? {} : { asyncInterrupt: this.#asyncInterrupt }),
    };
    const {
      size,
      export: _e,
      name: _n,
      cancelGraceMs,
      idleTimeoutMs,
      maxQueue,
      asyncInterrupt: _a,
      ...nodeOptions
    } = this.#options;
    let worker: Worker;
    try {
      worker = startWorker(
        entryUrl,
        {
          ...nodeOptions,
          name,
          workerData: { [START_KEY]: start },
          transferList: [channel.threadEnd],
        } as WorkerOptions,
        {
          onError: (error) => {
            if (w !== undefined) w.crash ??= { error };
          },
          onExit: (exitCode) => {
            if (w !== undefined) this.#onExit(w, exitCode);
          },
        },
      );
    } catch (error) {
      channel.close();
      releaseSlot(registry, slot);
      throw error;
    }
    setNativeThreadId(registry, slot, worker.threadId);
    setSlotName(registry, slot, name);
    // Pool workers are threads of the program like any other: a signal or exit shuts them down.
    if (isMainThread) installShutdownHooks(registry);
    worker.unref();
    w = {
      worker,
      channel,
      slot,
      threadId: worker.threadId,
      words,
      jobs: [],
      estimateMs: 0,
      leaving: false,
      replaced: false,
      held: false,
      crash: undefined,
      interruptedAt: undefined,
      idleTimer: undefined,
      releasing: false,
      running: undefined,
    };
    // A shutdown terminates the workers it finds stuck, as it does threads.
    let exited!: () => void;
    w.running = {
      name,
      threadId: worker.threadId,
      slot: slot.slot,
      terminate: () => worker.terminate().then(() => {}),
      hurry: () => void worker.terminate(),
      exited: new Promise<void>((resolve) => {
        exited = resolve;
      }),
      markExited: () => exited(),
    };
    runningThreads.add(w.running);
    this.#workers.add(w);
    poolsWithWorkers.add(this as ThreadPool<PoolTarget>);
    return w;
  }

  /** A task's end, as its worker reports it. */
  #onOutcome(w: PoolWorker, message: unknown): void {
    // The bootstrap's own reports (a crash) are not task outcomes: the 'error' event has it.
    if (!Array.isArray(message)) return;
    // Indexed rather than destructured: unoptimized code (the way from a cancel is run rarely)
    // destructures an array through its iterator.
    const outcome = message as unknown as TaskOutcome;
    const id = outcome[0];
    if (w.jobs[0]?.id !== id) {
      // Cancelled tasks before it ended without an outcome of their own (src/pool-worker.ts).
      const at = w.jobs.findIndex((job) => job.id === id);
      if (at === -1 || !this.#ended(w, at)) return;
    }
    const job = w.jobs.shift()!;
    const name = job.exportName ?? this.#exportName;
    const known = this.#taskMs.get(name);
    const ms = outcome[3];
    this.#taskMs.set(name, known === undefined ? ms : known * 0.8 + ms * 0.2);
    w.estimateMs -= job.estimateMs;
    this.#endGrace(w);
    // A task settled already (cancelled) takes no value, and its error is not rebuilt (a cancelled
    // one's worker sends none).
    if (!job.settled) {
      if (outcome[1]) this.#settle(job, true, outcome[2], false);
      else this.#settle(job, false, rebuildError(outcome[2] as TransferredError), false);
    }
    if (w.leaving) return;
    if (w.jobs.length === 0) this.#free(w);
    else if (this.#queued > 0) this.#topUp(w);
  }

  /**
   * Drops the first `count` tasks of a worker, which ended without an outcome of their own: the
   * worker reported a later task (its outcome, or its RUNNING_TASK word). Only a task the pool had
   * cancelled ends so; false (nothing dropped) if one was not.
   */
  #ended(w: PoolWorker, count: number): boolean {
    for (let i = 0; i < count; i++) if (!w.jobs[i]!.settled) return false;
    for (let i = 0; i < count; i++) w.estimateMs -= w.jobs.shift()!.estimateMs;
    return true;
  }

  /** Drops the tasks a worker has gone past, by its RUNNING_TASK word; returns the word read. */
  #catchUp(w: PoolWorker): number {
    const running = Atomics.load(w.words, RUNNING_TASK);
    const at = w.jobs.findIndex((job) => job.id === running);
    if (at > 0 && this.#ended(w, at)) this.#endGrace(w);
    return running;
  }

  /**
   * Ends a worker's grace period once none of its cancelled tasks is left running. The watchdog
   * stays armed (clearing a timer there costs 5-10 us on the way from a task's end to its
   * result); it finds nothing to do when it fires, and is not armed again.
   */
  #endGrace(w: PoolWorker): void {
    if (w.interruptedAt === undefined || w.jobs.some((rest) => rest.settled)) return;
    w.interruptedAt = undefined;
  }

  /** The next task id, from 1 to MAX_TASK_ID and round again. */
  #takeId(): number {
    const id = this.#nextId;
    this.#nextId = id === MAX_TASK_ID ? 1 : id + 1;
    return id;
  }

  /** A worker whose tasks have ended: it takes the next, waits idle, or exits. */
  #free(w: PoolWorker): void {
    if (this.#queued > 0) {
      const job = this.#dequeue();
      if (job !== undefined) {
        this.#dispatch(w, job);
        this.#topUp(w);
        return;
      }
    }
    if (this.#closing) {
      this.#retire(w);
      return;
    }
    this.#idle.push(w);
    // Unreferenced (and its idle timer armed) after the reactions to the task's result, which
    // this runs before: the caller's code that awaits it runs 5-10 us sooner, and a caller that
    // then runs the next task finds the worker still referenced (no unref and ref again).
    if (w.releasing) return;
    w.releasing = true;
    void settledPromise.then(() => this.#release(w));
  }

  /** An idle worker no longer keeps the pool's thread alive; it retires after `idleTimeoutMs`. */
  #release(w: PoolWorker): void {
    w.releasing = false;
    if (w.jobs.length > 0 || w.leaving) return;
    this.#hold(w, false);
    if (this.#idleMs !== Number.POSITIVE_INFINITY && w.idleTimer === undefined) {
      w.idleTimer = setTimeout(() => {
        w.idleTimer = undefined;
        const at = this.#idle.indexOf(w);
        if (at === -1) return;
        this.#idle.splice(at, 1);
        this.#retire(w);
      }, this.#idleMs);
      w.idleTimer.unref();
    }
  }

  /** Tells an idle worker to exit. */
  #retire(w: PoolWorker): void {
    if (w.leaving) return;
    w.leaving = true;
    const at = this.#idle.indexOf(w);
    if (at !== -1) this.#idle.splice(at, 1);
    if (w.idleTimer !== undefined) clearTimeout(w.idleTimer);
    w.channel.post(CLOSE_WORKER);
  }

  #onExit(w: PoolWorker, exitCode: number): void {
    // An outcome posted before the worker ended still counts, whichever event came first.
    for (const message of w.channel.takeAll()) this.#onOutcome(w, message);
    this.#catchUp(w);
    w.channel.close();
    if (w.idleTimer !== undefined) clearTimeout(w.idleTimer);
    releaseSlot(this.#registry!, w.slot);
    if (w.running !== undefined) {
      runningThreads.delete(w.running);
      w.running.markExited();
    }
    this.#workers.delete(w);
    this.#terminating.delete(w);
    const at = this.#idle.indexOf(w);
    if (at !== -1) this.#idle.splice(at, 1);
    const [job, ...behind] = w.jobs;
    w.jobs.length = 0;
    if (!w.leaving) {
      // It crashed or exited by itself: only the task it ran fails; the tasks sent behind it
      // never started, and go back to the queue for another worker.
      this.#replaced++;
      if (job !== undefined) {
        const error =
          w.crash?.error ??
          Object.assign(
            codedError(
              Error,
              'ERR_THREAD_EXITED',
              `The worker of ThreadPool "${this.#name}" running this task exited with code ${exitCode} before the task returned (process.exit() in the task?).`,
            ),
            { exitCode },
          );
        this.#settle(job, false, error, false);
      }
      this.#requeue(behind);
    }
    this.#pump();
    this.#checkClosed();
  }

  /** Settles a task's promise, once: `cancelled` counts it as cancelled, else as completed. */
  #settle(job: Job, ok: boolean, value: unknown, cancelled: boolean): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort !== undefined) job.signal!.removeEventListener('abort', job.onAbort);
    if (cancelled) this.#cancelled++;
    else this.#completed++;
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  /** Cancels a task: dropped if queued, interrupted if running; its promise rejects now. */
  #cancel(job: Job, reason: unknown): void {
    if (job.settled) return;
    const w = job.worker;
    // The interrupt first, the promise after: the task stops the sooner. (A task sent behind
    // others, cancelled only by close({ cancel: true }), has no signal: close() sees to it.)
    if (w !== undefined && w.jobs[0] === job) {
      // What can throw, first: once its id is here, the task's end reports no outcome (the
      // promise is settled below), so nothing may stop the settling after it is written.
      const bytes = reasonBytes(reason);
      // Before the interrupt: a task that ends on it finds its id here, and goes on to the next.
      Atomics.store(w.words, CANCELLED_TASK, job.id);
      this.#interrupt(w, bytes);
    }
    this.#settle(job, false, reason, true);
    if (w !== undefined) {
      w.estimateMs -= job.estimateMs;
      job.estimateMs = 0;
      // The next task may wait behind the cancelled one rather than for a round trip after it.
      if (this.#queued > 0) this.#topUp(w);
    } else {
      // A queued task is left in the queue, settled: #dequeue skips it.
      this.#queued--;
    }
  }

  /** Interrupts a worker's running task with the reason's bytes ({@link reasonBytes}); it is replaced if it has not ended within the grace period. */
  #interrupt(w: PoolWorker, reason: Uint8Array | undefined): void {
    requestInterrupt(this.#registry!, w.slot, reason, callerIn(this.#registry!));
    if (w.interruptedAt !== undefined) return;
    w.interruptedAt = performance.now();
    // One timer for every grace period: a cancel finds it mostly armed already (it fires after
    // cancelGraceMs, and again while cancelled tasks run), and sets none. Else it is armed once
    // the caller's synchronous code is done (abort() returned, the next run() has sent its task):
    // a timer costs 15-25 us, between a cancel and the task the worker takes next. A promise
    // reaction rather than queueMicrotask(), which makes an async resource (2-4 us there).
    if (this.#watchdog !== undefined || this.#arming) return;
    this.#arming = true;
    void settledPromise.then(() => {
      this.#arming = false;
      if (this.#watchdog === undefined) this.#armWatchdog();
    });
  }

  /** Arms the watchdog for the earliest end of a grace period that runs, if any runs. */
  #armWatchdog(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const w of this.#workers) {
      if (w.interruptedAt !== undefined && !w.leaving && w.interruptedAt < earliest) earliest = w.interruptedAt;
    }
    // cancelGraceMs: Infinity never replaces a worker.
    if (earliest === Number.POSITIVE_INFINITY || this.#graceMs === Number.POSITIVE_INFINITY) return;
    // A timer may fire up to a millisecond early by this clock (libuv counts in whole ms): the
    // watchdog then finds the period not over yet, and comes back. Past MAX_TIMER_MS, Node would
    // set the timer to 1 ms (with a warning), again each time it came back: it comes back sooner.
    const left = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(earliest + this.#graceMs - performance.now())));
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const replaced: WorkerReplacedEvent[] = [];
      for (const w of [...this.#workers]) {
        const event = w.interruptedAt === undefined ? undefined : this.#replace(w);
        if (event !== undefined) replaced.push(event);
      }
      if (this.#watchdog === undefined) this.#armWatchdog();
      // Last: a listener that throws leaves the other workers' grace periods watched. In the
      // order the tasks were cancelled (the longest ignored first), and each one announced: a
      // listener's throw is rethrown on its own, as a timer per worker would have thrown it.
      if (replaced.length > 1) replaced.sort((a, b) => b.ignoredMs - a.ignoredMs);
      for (const event of replaced) {
        try {
          this.emit('workerReplaced', event);
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    }, left);
    this.#watchdog.unref();
  }

  /**
   * Terminates a worker whose cancelled task ignored its interrupt for the grace period; returns
   * what the pool's `'workerReplaced'` event says of it, for the caller to emit.
   */
  #replace(w: PoolWorker): WorkerReplacedEvent | undefined {
    // Timers run before the port's messages: an outcome waiting there (the cancelled task did
    // end in time, and the task behind it may have started) decides first.
    for (const message of w.channel.takeAll()) this.#onOutcome(w, message);
    const running = this.#catchUp(w);
    const job = w.jobs.find((pending) => pending.settled);
    if (job === undefined || w.leaving) {
      w.interruptedAt = undefined;
      return undefined;
    }
    const waited = performance.now() - w.interruptedAt!;
    // Not over yet: the watchdog comes back for it.
    if (waited < this.#graceMs) return undefined;
    // Claimed: from now on the worker starts no other task, so none runs twice (here and, requeued,
    // elsewhere). If it started one since #catchUp read its word, it went past the cancelled task.
    if (Atomics.compareExchange(w.words, RUNNING_TASK, running, REPLACING) !== running) return this.#replace(w);
    w.leaving = true;
    w.replaced = true;
    this.#replaced++;
    // No longer counted: a replacement may start at once, while this one is torn down.
    this.#workers.delete(w);
    this.#terminating.add(w);
    void w.worker.terminate();
    this.#requeue(w.jobs.splice(0));
    this.#pump();
    return { threadId: w.threadId, export: job.exportName ?? this.#exportName, task: job.task, ignoredMs: waited };
  }

  #checkClosed(): void {
    if (this.#workers.size === 0 && this.#terminating.size === 0) {
      poolsWithWorkers.delete(this as ThreadPool<PoolTarget>);
      if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
    }
    if (this.#closing && this.#workers.size === 0 && this.#terminating.size === 0 && this.#queued === 0) {
      this.#resolveClosed?.();
    }
  }
}
