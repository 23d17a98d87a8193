/**
 * The Thread handle, on the side that starts a thread: start, interrupt, join, terminate.
 */
import { type AsyncInterruptOption, assertTransformInstalled, asyncInterruptStart } from './async-interrupt/options.js';
import { codedError, describeValue, invalidArgType } from './coded-errors.js';
import {
  allocateSlot,
  type Caller,
  type ControlBlock,
  createControlBlock,
  endedExitCode,
  endedOnInterrupt,
  isInterruptRequested,
  markEndedOnInterrupt,
  nextThreadNumber,
  releaseSlot,
  requestInterrupt,
  type SlotRef,
  setNativeThreadId,
  setSlotName,
  targetFinished,
} from './control-block.js';
import { rebuildError } from './error-transfer.js';
import { endsThreadGracefully } from './errors.js';
import type { CrashMessage, OutcomeMessage, ReportMessage } from './messages.js';
import { encodeReason, standInReason } from './reason.js';
import { ensureRegistry } from './registry.js';
import {
  assertCanJoinSync,
  isMainThread,
  type MessagePort,
  moduleUrl,
  openReportChannel,
  type ReportChannel,
  startWorker,
  threadEntry,
  type Worker,
  type WorkerEvents,
  type WorkerOptions,
} from './runtime/node.js';
import { installShutdownHooks } from './shutdown/process-hooks.js';
import { type RunningThread, runningThreads } from './shutdown/running-threads.js';
import { callerIn, START_KEY, type StartData } from './thread-state.js';
import { observeFailure, recordFailure } from './unobserved-failures.js';
import { validateTimeout } from './waits/arguments.js';
import { waitUntil } from './waits/park.js';
import { sharedObjectsSeen } from './waits/shared-memory.js';
import { pack } from './waits/transfer.js';
import { ownParking } from './waits/wait-queue.js';

/**
 * A function a thread can run: the type `Thread` reads its `args` and `join()` result from.
 * (`never` parameters make every function type assignable to it.)
 */
export type ThreadTarget = (...args: never) => unknown;

/** What `join()` resolves with: the target's result, or undefined if it stopped on an interrupt. */
export type ThreadResult<Target extends ThreadTarget> = Awaited<ReturnType<Target>> | undefined;

/**
 * Where a thread is in its life:
 * - `'new'`: created, not started;
 * - `'running'`: started and not yet ended;
 * - `'finished'`: its target returned (or its promise resolved);
 * - `'interrupted'`: it ended through an uncaught {@link ThreadInterruptedError} (or the `AbortError`
 *   an API rejected with for its interruption signal);
 * - `'failed'`: its target threw, it could not start, or it crashed;
 * - `'terminated'`: stopped by {@link Thread.terminate} before its target ended.
 */
export type ThreadState = 'new' | 'running' | 'finished' | 'interrupted' | 'failed' | 'terminated';

/**
 * Options for {@link Thread}: what to run, with what, and the worker settings passed on to Node.
 *
 * @typeParam Args - the target's parameter list, the type of `args`.
 */
export interface ThreadOptions<Args extends readonly unknown[] = unknown[]> {
  /** The name of the module's export to run. Default `'default'`. */
  export?: string;
  /**
   * The arguments the target is called with, structured-cloned into the thread. A
   * `SharedArrayBuffer` arrives shared; put `MessagePort`s and other transferables in
   * `transferList` too.
   */
  args?: Args;
  /** The thread's name, in `currentThread().name`, errors and reports. Default `Thread-<n>`. */
  name?: string;
  /**
   * Interrupts the thread with `signal.reason` when it aborts (before `start()`: from the thread's
   * first instruction), as `child_process.spawn({ signal })` kills its child: `AbortSignal.timeout(ms)`
   * gives the thread a deadline, `AbortSignal.any([...])` ties it to several scopes. A reason that
   * cannot be cloned into the thread is replaced by a `DOMException` named like it.
   */
  signal?: AbortSignal;
  /** Objects in `args` to transfer rather than clone. */
  transferList?: WorkerOptions['transferList'];
  /** The thread's `process.env`. Default: a copy of the parent's. */
  env?: WorkerOptions['env'];
  /** Node options for the thread. Default: the parent's `process.execArgv`. */
  execArgv?: string[];
  /** Appended to the thread's `process.argv`. */
  argv?: unknown[];
  /** Heap and stack limits of the thread. */
  resourceLimits?: WorkerOptions['resourceLimits'];
  /** When true, `thread.worker.stdin` is a writable stream the thread reads as `process.stdin`. */
  stdin?: boolean;
  /** When true, the thread's stdout is not piped into the parent's automatically. */
  stdout?: boolean;
  /** When true, the thread's stderr is not piped into the parent's automatically. */
  stderr?: boolean;
  /**
   * Lets an interrupt reach the thread's code even where it never polls: its modules are
   * instrumented as they load, and throw {@link ThreadInterruptedError} at the next loop
   * iteration or call once interrupted. `true`: anywhere outside critical sections; `'regions'`:
   * only inside `allowInterruption()` regions; an object also lists dependencies to instrument.
   * Needs the optional peer dependencies `acorn` and `magic-string`. Default false.
   */
  asyncInterrupt?: AsyncInterruptOption;
}

/** Options of {@link Thread.join}. */
export interface JoinOptions {
  /** Stops waiting (the thread keeps running): `join()` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * The options argument of a thread whose target is `Target`: `args` is required when the target
 * has required parameters, optional otherwise.
 */
export type ThreadConstructorOptions<Target extends ThreadTarget> =
  [] extends Parameters<Target>
    ? [options?: ThreadOptions<Parameters<Target>>]
    : [options: ThreadOptions<Parameters<Target>> & { args: Parameters<Target> }];

// A thread's entry is the package's own (src/bootstrap.ts says why).
const entryUrl = threadEntry(import.meta.url);

/** Whether this thread has run {@link Thread}'s interrupt and exit paths once. */
let warmedUp = false;

/** @internal Resolves the `module` argument of a Thread or ThreadPool; throws for a bad one. */
export function validateModule(module: unknown): URL {
  if (module instanceof URL) return module;
  if (typeof module !== 'string') throw invalidArgType('module', 'a string or an instance of URL', module);
  if (!/^(\.{1,2}[\\/]|[\\/]|[a-z]:[\\/]|[a-z][a-z0-9+.-]*:)/i.test(module)) {
    throw codedError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `The "module" argument must be an absolute path, a path starting with ./ or ../ (relative to the working directory), or a URL. Received ${describeValue(module)}; new URL('./worker.js', import.meta.url) names a file next to the calling module.`,
    );
  }
  return moduleUrl(module);
}

function validateOptions(options: unknown): ThreadOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { export: exportName, args, name } = options as ThreadOptions;
  if (exportName !== undefined && typeof exportName !== 'string') {
    throw invalidArgType('options.export', 'a string', exportName);
  }
  if (args !== undefined && !Array.isArray(args)) throw invalidArgType('options.args', 'an array', args);
  if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'a string', name);
  const { signal } = options as ThreadOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (asyncInterruptStart((options as ThreadOptions).asyncInterrupt, 'options.asyncInterrupt') !== undefined) {
    assertTransformInstalled();
  }
  return options as ThreadOptions;
}

function notStarted(name: string): Error {
  return codedError(
    Error,
    'ERR_INVALID_THREAD_STATE',
    `Thread "${name}" has not been started; call start() before join().`,
  );
}

/**
 * A worker thread that can be asked to stop gracefully. `interrupt()` sets the thread's flag in
 * shared memory: the thread sees it at once, even in synchronous code, through
 * `interruptionRequested()`, `checkInterrupt()`, `sleep()` and `interruptionSignal()`.
 *
 * Type it with the target function to type `args` and `join()`:
 *
 * @example
 * ```ts
 * import { Thread } from 'graceful-threads';
 * import type crunch from './crunch.js';
 *
 * const thread = new Thread<typeof crunch>(new URL('./crunch.js', import.meta.url), {
 *   args: [1_000_000],
 * }).start();
 * setTimeout(() => thread.interrupt('took too long'), 5000);
 * const total = await thread.join(); // number | undefined (undefined: it stopped on the interrupt)
 * ```
 *
 * @typeParam Target - the type of the function the thread runs (`typeof target`), from which
 *   `args` and the result of `join()` are typed. Without it both are `unknown`.
 */
export class Thread<Target extends ThreadTarget = (...args: unknown[]) => unknown> {
  readonly #module: URL;
  readonly #options: ThreadOptions;
  readonly #name: string;
  #state: ThreadState = 'new';
  #threadId = -1;
  #worker: Worker | undefined;
  #registry: ControlBlock | undefined;
  #slot: SlotRef | undefined;
  /**
   * The calling thread as `interrupt()`'s caller in #registry (callerIn): a Thread is used by the
   * thread that made it only, so it is looked up once, not between interrupt() and the wake-up.
   */
  #caller: Caller;
  /** An interrupt requested before start: `reason` bytes, delivered when the thread starts. */
  #earlyInterrupt: { readonly reason: Uint8Array | undefined } | undefined;
  #interruptedAtEnd = false;
  #terminating = false;
  #crash: { readonly error: unknown } | undefined;
  #channel: ReportChannel | undefined;
  /** In `runningThreads` while it runs, for a shutdown. */
  #running: RunningThread | undefined;
  /** join() or joinSync() was called: a failure reaches someone. */
  #observed = false;
  /** A failure nobody has joined yet (see src/unobserved-failures.ts). */
  #unobserved: object | undefined;
  /** How it ended, once known: to joinSync() before the worker's 'exit', else at that event. */
  #end: Settlement<ThreadResult<Target>> | undefined;
  readonly #done: Promise<ThreadResult<Target>>;
  #settle!: (result: Settlement<ThreadResult<Target>>) => void;

  /**
   * @param module the module whose export the thread runs: an absolute path, a path starting
   *   with `./` or `../` (relative to the working directory, as for `Worker`), or a URL.
   * @param options see {@link ThreadOptions}.
   */
  constructor(module: string | URL, ...[options]: ThreadConstructorOptions<Target>) {
    this.#module = validateModule(module);
    this.#options = validateOptions(options);
    this.#name = this.#options.name ?? `Thread-${nextThreadNumber(ensureRegistry())}`;
    this.#done = new Promise((resolve, reject) => {
      this.#settle = (outcome) => (outcome.ok ? resolve(outcome.value) : reject(outcome.error));
    });
    // Failures are reported to join(); a thread nobody joins must not crash the process.
    this.#done.catch(() => {});
    this.#followSignal(this.#options.signal);
  }

  // Until start() the signal is only checked: a listener would keep a thread that is never
  // started reachable from a long-lived signal.
  #followSignal(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this.#interruptFromSignal(signal.reason);
      return;
    }
    if (this.#state !== 'running') return;
    const onAbort = (): void => this.#interruptFromSignal(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A long-lived signal (a server's) must not keep a listener for every thread it outlives.
    this.#done.then(
      () => signal.removeEventListener('abort', onAbort),
      () => signal.removeEventListener('abort', onAbort),
    );
  }

  // An abort listener must not throw (it would be an uncaught exception), whatever the reason
  // is: the thread is interrupted all the same, with a reason that says what the original was.
  #interruptFromSignal(reason: unknown): void {
    try {
      this.interrupt(reason);
      return;
    } catch {}
    this.interrupt(standInReason(reason));
  }

  /** The thread's name. */
  get name(): string {
    return this.#name;
  }

  /** Node's id of the thread (`worker.threadId`); -1 before start. Kept after the thread ends. */
  get threadId(): number {
    return this.#threadId;
  }

  /** Where the thread is in its life. */
  get state(): ThreadState {
    return this.#state;
  }

  /** The thread's interruption flag, read without clearing it. After the thread ends: as it ended. */
  get interrupted(): boolean {
    if (this.#state === 'new') return this.#earlyInterrupt !== undefined;
    if (this.#state !== 'running' || this.#registry === undefined || this.#slot === undefined) {
      return this.#interruptedAtEnd;
    }
    return isInterruptRequested(this.#registry, this.#slot);
  }

  /** The underlying Node `Worker` once started, for its events and streams. */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  /**
   * Starts the thread.
   *
   * @throws `Error` with code `ERR_INVALID_THREAD_STATE` if it was started before;
   *   `TypeError` with code `ERR_THREAD_ARGS_NOT_CLONEABLE` if `args` cannot be cloned;
   *   `RangeError` with code `ERR_THREAD_LIMIT` when too many threads are alive.
   */
  start(): this {
    if (this.#state !== 'new') {
      throw codedError(
        Error,
        'ERR_INVALID_THREAD_STATE',
        this.#state === 'terminated' && this.#threadId === -1
          ? `Thread "${this.#name}" was terminated before it started; create a new Thread to run the target.`
          : `Thread "${this.#name}" was already started (it is ${this.#state}); create a new Thread to run the target again.`,
      );
    }
    // A signal that aborted since the constructor counts as an interrupt before start.
    if (this.#options.signal?.aborted === true) this.#interruptFromSignal(this.#options.signal.reason);
    const registry = ensureRegistry();
    const caller = callerIn(registry);
    const slot = allocateSlot(registry, caller);
    if (slot === undefined) {
      throw codedError(
        RangeError,
        'ERR_THREAD_LIMIT',
        `Cannot start thread "${this.#name}": ${registry.capacity} threads are alive. Join or terminate some first, or use fewer threads.`,
      );
    }
    // Set before the worker exists, so the thread sees it from its first instruction.
    if (this.#earlyInterrupt !== undefined) {
      requestInterrupt(registry, slot, this.#earlyInterrupt.reason, caller);
    }
    const channel = openReportChannel();
    let worker: Worker;
    try {
      worker = startWorker(entryUrl, this.#workerOptions(registry, slot, channel.threadEnd), this.#events(channel));
    } catch (error) {
      channel.close();
      releaseSlot(registry, slot);
      if ((error as { name?: unknown } | null)?.name === 'DataCloneError') {
        throw codedError(
          TypeError,
          'ERR_THREAD_ARGS_NOT_CLONEABLE',
          `The args of thread "${this.#name}" cannot be structured-cloned (${(error as Error).message.replace(/\.+$/, '')}). Pass plain data, SharedArrayBuffers, or transferables listed in options.transferList.`,
          error,
        );
      }
      throw error;
    }
    this.#worker = worker;
    this.#channel = channel;
    this.#registry = registry;
    this.#slot = slot;
    this.#caller = caller;
    this.#threadId = worker.threadId;
    this.#state = 'running';
    setNativeThreadId(registry, slot, worker.threadId);
    setSlotName(registry, slot, this.#name);
    this.#running = {
      name: this.#name,
      threadId: worker.threadId,
      slot: slot.slot,
      terminate: () => this.terminate(),
      hurry: () => void worker.terminate(),
      // Parenthesized: compiled now, not as the thread's end settles it (a shutdown's way out).
      // biome-ignore format: the parentheses are V8's eager-compilation hint
      exited: this.#done.then((function ended(): void {}), (function failed(): void {})),
    };
    runningThreads.add(this.#running);
    if (isMainThread) installShutdownHooks(registry);
    this.#followSignal(this.#options.signal);
    if (!warmedUp) {
      warmedUp = true;
      queueMicrotask(() => Thread.#warmUp());
    }
    return this;
  }

  /**
   * Runs, once in each thread that starts threads, the code that interrupting and joining a
   * thread runs, on a Thread that never starts and a control block of its own: nothing is
   * numbered, counted or kept alive. V8 compiles a function the first time it is called; left to
   * the first interrupt and join, those compilations (0.3-0.4 ms) would fall between interrupt()
   * and join() settling. Run while the first thread loads.
   */
  static #warmUp(): void {
    try {
      const thread = new Thread(entryUrl, { name: 'warm-up' });
      thread.interrupt(); // the early-interrupt branch
      const block = createControlBlock(1);
      const slot = allocateSlot(block, undefined);
      if (slot === undefined) return;
      thread.#registry = block;
      thread.#slot = slot;
      thread.#state = 'running';
      thread.interrupt(); // the running branch, as interrupt() of a started thread runs it
      const channel = openReportChannel();
      markEndedOnInterrupt(block, slot); // as the thread's bootstrap says it
      channel.threadEnd.close();
      readReports(channel.takeAll(), true); // what the exit of a thread that did not end so reads
      thread.#events(channel).onExit(0);
      void thread.join();
    } catch {
      // Only ever a head start: the real paths run the same code.
    }
  }

  #workerOptions(registry: ControlBlock, slot: SlotRef, port: MessagePort): WorkerOptions {
    const {
      export: exportName,
      args,
      name,
      transferList,
      signal: _signal,
      asyncInterrupt,
      ...nodeOptions
    } = this.#options;
    const asyncStart = asyncInterruptStart(asyncInterrupt, 'options.asyncInterrupt');
    // Walked only once this thread has seen a lock, queue... (a walk of large args costs).
    const packedArgs = (sharedObjectsSeen && args !== undefined ? pack(args) : (args ?? [])) as unknown[];
    const start: StartData = {
      registry: registry.memory,
      slot: slot.slot,
      gen: slot.gen,
      name: this.#name,
      moduleHref: this.#module.href,
      exportName: exportName ?? 'default',
      args: packedArgs,
      shared: packedArgs !== args && packedArgs.length > 0,
      port,
      ...(asyncStart === undefined ? {} : { asyncInterrupt: asyncStart }),
    };
    return {
      ...nodeOptions,
      name: this.#name,
      workerData: { [START_KEY]: start },
      transferList: [port, ...(transferList ?? [])],
    } as WorkerOptions;
  }

  /** What this handle does when its worker crashes or exits. */
  #events(channel: ReportChannel): WorkerEvents {
    return {
      onError: (error) => {
        this.#crash ??= { error };
      },
      onExit: (exitCode) => this.#onExit(channel, exitCode),
      targetSettled: () =>
        this.#registry !== undefined &&
        this.#slot !== undefined &&
        targetFinished(this.#registry, this.#slot) !== false,
      threadEnded: () =>
        this.#registry !== undefined &&
        this.#slot !== undefined &&
        endedExitCode(this.#registry, this.#slot) !== undefined,
    };
  }

  #onExit(channel: ReportChannel, exitCode: number): void {
    const interrupted = this.#endedOnInterrupt();
    // A thread that said it ended on an interrupt and exited with code 0, with no 'error' event,
    // has nothing on the channel that counts: its outcome is the interrupt, and it posts a crash
    // only with another exit code. Not read: 10-15 us less between its exit and join() settling.
    const { outcome, crash } =
      interrupted && exitCode === 0 && this.#crash === undefined
        ? INTERRUPTED_END
        : readReports(channel.takeAll(), interrupted);
    channel.close();
    // The thread's own report of what it died of, when it could send one, is the faithful copy:
    // Deno's 'error' event gives a plain Error (no name, no cause), and a browser's worker
    // reports its crash only on the channel.
    if (crash !== undefined) this.#crash = { error: rebuildError(crash.error) };
    if (this.#registry !== undefined && this.#slot !== undefined) {
      this.#interruptedAtEnd = isInterruptRequested(this.#registry, this.#slot);
      releaseSlot(this.#registry, this.#slot);
    }
    if (this.#end === undefined) {
      const [final, result] = endOf<ThreadResult<Target>>(
        outcome,
        this.#crash,
        this.#terminating,
        exitCode,
        this.#name,
      );
      this.#state = final;
      this.#end = result;
    }
    if (this.#running !== undefined) runningThreads.delete(this.#running);
    this.#settle(this.#end);
    if (!this.#end.ok && this.#state === 'failed' && !this.#observed) {
      this.#unobserved = recordFailure(this, this.#end.error, { name: this.#name, threadId: this.#threadId });
    }
  }

  /** Whether the thread said its target ended on an interrupt (read before its slot is freed). */
  #endedOnInterrupt(): boolean {
    return this.#registry !== undefined && this.#slot !== undefined && endedOnInterrupt(this.#registry, this.#slot);
  }

  /** Someone will see how the thread ended: its failure is not reported as unobserved. */
  #observe(): void {
    this.#observed = true;
    if (this.#unobserved !== undefined) observeFailure(this.#unobserved);
    this.#unobserved = undefined;
  }

  /**
   * Asks the thread to stop: sets its interruption flag and wakes it if it sleeps or waits.
   * Idempotent (the first reason stays until the thread clears its flag); a no-op once the thread
   * has ended. Before `start()`, the thread sees the flag from its first instruction.
   *
   * @param reason why, structured-cloned into the thread: the `reason` of its
   *   {@link ThreadInterruptedError} and of its `interruptionSignal()`. At most 4 KiB once cloned.
   * @throws `TypeError` (`ERR_INTERRUPT_REASON_NOT_CLONEABLE`) or `RangeError`
   *   (`ERR_INTERRUPT_REASON_TOO_LARGE`) for a reason that cannot reach the thread.
   */
  interrupt(reason?: unknown): void {
    // No reason (most interrupts): no call before the wake-up, which this runs ahead of.
    const bytes = reason === undefined ? undefined : encodeReason(reason);
    if (this.#state === 'new') {
      this.#earlyInterrupt ??= { reason: bytes };
    } else if (this.#state === 'running' && this.#registry !== undefined && this.#slot !== undefined) {
      requestInterrupt(this.#registry, this.#slot, bytes, this.#caller);
    }
  }

  /**
   * Waits for the thread to end. Resolves with the target's return value, or undefined when the
   * thread ended through an uncaught {@link ThreadInterruptedError} (a graceful stop is not a
   * failure; a value the target had already returned is kept). Rejects with the target's error
   * (class name, message, stack, `code` kept), with `ERR_THREAD_TERMINATED` after
   * {@link Thread.terminate}, or `ERR_THREAD_EXITED`.
   *
   * It settles once the thread has stopped (its worker's `'exit'`), not when the target's outcome
   * arrives: what the target left running (timers, I/O, callbacks) has run, the thread's output
   * is flushed, and its slot is free, as after Java's `Thread.join()`.
   *
   * @param options.signal stops the waiting, not the thread: `join()` rejects with its reason.
   */
  join(options?: JoinOptions): Promise<ThreadResult<Target>> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      return Promise.reject(invalidArgType('options', 'an object', options));
    }
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(invalidArgType('options.signal', 'an instance of AbortSignal', signal));
    }
    if (this.#state === 'new') return Promise.reject(notStarted(this.#name));
    this.#observe();
    if (signal === undefined) return this.#done;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#done.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
    });
  }

  /**
   * Blocks the calling thread until the thread ends, for code that cannot await (use `join()`
   * where you can: this blocks the event loop). Returns what `join()` resolves with and throws
   * what it rejects with. It returns once the thread's last event has run (Node's `'exit'` in
   * the thread), possibly a moment before its worker is torn down and `join()` settles; or, when
   * output the thread printed is still on its way as its target finishes, once the target has
   * finished: that output reaches the parent only through the parent's event loop, which this
   * blocks, so the thread could not exit. An
   * interruption point: an interrupt of the calling thread wakes it at once and throws
   * {@link ThreadInterruptedError}, leaving the thread running.
   *
   * @param timeoutMs how long to wait (default: no limit).
   * @throws Error with code `ERR_THREAD_JOIN_TIMEOUT` when the thread has not ended in time;
   *   `ERR_THREAD_TERMINATED` at once after {@link Thread.terminate} (a terminated thread sends
   *   no word of its end: await `join()` for it).
   * @example
   * ```ts
   * const child = new Thread(new URL('./part.js', import.meta.url), { args: [chunk] }).start();
   * const sum = child.joinSync(60_000);
   * ```
   */
  joinSync(timeoutMs?: number): ThreadResult<Target> {
    assertCanJoinSync();
    const timeout = validateTimeout(timeoutMs);
    if (this.#state === 'new') throw notStarted(this.#name);
    this.#observe();
    if (this.#end === undefined) {
      if (this.#terminating) throw terminatedError(this.#name);
      const registry = this.#registry!;
      const slot = this.#slot!;
      let exitCode: number | undefined;
      const hasEnded = (): boolean => {
        exitCode = endedExitCode(registry, slot);
        return exitCode !== undefined || targetFinished(registry, slot) === 'output-in-flight';
      };
      const ended = waitUntil(ownParking(registry), hasEnded, timeout);
      if (this.#end === undefined) {
        if (!ended) {
          throw codedError(
            Error,
            'ERR_THREAD_JOIN_TIMEOUT',
            `Thread "${this.#name}" did not end within ${timeout} ms. Interrupt it first (thread.interrupt()), wait longer, or await thread.join().`,
          );
        }
        const { outcome, crash } = readReports(this.#channel!.takeAll(), this.#endedOnInterrupt());
        const error = crash === undefined ? this.#crash : { error: rebuildError(crash.error) };
        const [final, result] = endOf<ThreadResult<Target>>(outcome, error, false, exitCode ?? 0, this.#name);
        this.#state = final;
        this.#end = result;
      }
    }
    if (this.#end.ok) return this.#end.value;
    throw this.#end.error;
  }

  /**
   * Stops the thread at once, wherever it is: **no `finally` block, critical section or cleanup
   * runs**, and files it was writing may be left half-written. The forced last resort for a
   * thread that does not respond to {@link Thread.interrupt}; prefer interrupt-then-join. Resolves
   * once the thread has stopped; its `join()` then rejects with `ERR_THREAD_TERMINATED` unless the
   * target had already returned.
   */
  async terminate(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'terminated';
      this.#settle({ ok: false, error: terminatedError(this.#name) });
      return;
    }
    if (this.#state !== 'running' || this.#worker === undefined) return;
    this.#terminating = true;
    await this.#worker.terminate();
    await this.#done.catch(() => {});
  }

  /**
   * `await using` support, as C++20's `std::jthread`: leaving the scope interrupts the thread and
   * waits for it to end. It never throws the thread's failure (that is what `join()` is for) and
   * does nothing for a thread that was never started.
   *
   * @example
   * ```ts
   * {
   *   await using worker = new Thread(new URL('./poller.js', import.meta.url)).start();
   *   await handleRequests();
   * } // the poller is interrupted and joined here, also when handleRequests() throws
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'new') return;
    this.interrupt();
    await this.#done.catch(() => {});
  }
}

type Settlement<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

const INTERRUPTED: OutcomeMessage = { type: 'interrupted' };
const INTERRUPTED_END = { outcome: INTERRUPTED, crash: undefined } as const;

/**
 * The last outcome a thread reported, and the error it died of, if it did. `interrupted`: the
 * thread said in shared memory that its target ended on an interrupt, its last word on the
 * target (an earlier message can only be 'unsettled', said as its event loop emptied before).
 */
function readReports(
  messages: readonly unknown[],
  interrupted: boolean,
): {
  outcome: OutcomeMessage | undefined;
  crash: CrashMessage | undefined;
} {
  let outcome: OutcomeMessage | undefined;
  let crash: CrashMessage | undefined;
  for (const message of messages as ReportMessage[]) {
    if (message.type === 'crash') crash = message;
    else outcome = message;
  }
  return { outcome: interrupted ? INTERRUPTED : outcome, crash };
}

/** How a thread ended, from what its bootstrap reported and what Node saw. */
function endOf<T>(
  outcome: OutcomeMessage | undefined,
  crash: { readonly error: unknown } | undefined,
  terminating: boolean,
  exitCode: number,
  name: string,
): [ThreadState, Settlement<T | undefined>] {
  // The target's own error is what join() reports, whatever happened after it.
  if (outcome?.type === 'error') return ['failed', { ok: false, error: rebuildError(outcome.error) }];
  if (crash !== undefined) {
    // An uncaught interruption outside the target (a timer, a stray promise) ends the thread
    // gracefully too, keeping a result the target had returned; any other crash is a failure.
    if (!endsThreadGracefully(crash.error)) return ['failed', { ok: false, error: crash.error }];
    return ['interrupted', { ok: true, value: outcome?.type === 'result' ? (outcome.value as T) : undefined }];
  }
  switch (outcome?.type) {
    case 'result':
      return ['finished', { ok: true, value: outcome.value as T }];
    case 'interrupted':
      return ['interrupted', { ok: true, value: undefined }];
    case 'unsettled': {
      const unsettled = codedError(
        Error,
        'ERR_THREAD_UNSETTLED',
        `Thread "${name}" ended with its target's promise still pending: nothing left on the thread's event loop (no timer, I/O, port or interruptionSignal() listener) could settle it. The target awaits a promise that nothing will resolve or reject: settle it, or keep what should settle it alive (a referenced timer, socket or port, or a listener on interruptionSignal()).`,
      );
      return ['failed', { ok: false, error: unsettled }];
    }
  }
  if (terminating) return ['terminated', { ok: false, error: terminatedError(name) }];
  const exited = codedError(
    Error,
    'ERR_THREAD_EXITED',
    `Thread "${name}" exited with code ${exitCode} before its target returned (process.exit() in the thread?).`,
  );
  return ['failed', { ok: false, error: Object.assign(exited, { exitCode }) }];
}

function terminatedError(name: string): Error {
  return codedError(Error, 'ERR_THREAD_TERMINATED', `Thread "${name}" was terminated before its target returned.`);
}
