/**
 * Inside a `ThreadPool`'s worker: runs the tasks its pool sends, one at a time, until the pool
 * closes it. The bootstrap (src/bootstrap.ts) hands over to it when the start data says `pool`.
 *
 * One task at a time, and the next only once the last has ended: a task's promise settling
 * (its async `finally` included) is its end, and only then is its outcome posted. The pool clears
 * the worker's flag as it sends a task to an idle worker (a cancel of that task sent after that
 * must stay set); a task the pool sent behind others (short ones without a signal, see
 * src/pool.ts) is cleared for here, as it starts, unless `close({ cancel: true })` cancelled it
 * meanwhile: it is then not run at all, as Java's `shutdownNow()` runs no task it drained.
 * Between tasks this side drops what the last one
 * left in the thread's state (src/current.ts `resetForNextTask`).
 */

import { codedError } from './coded-errors.js';
import { markBusy, markFinished } from './control-block.js';
import { clearInterrupt, resetForNextTask } from './current.js';
import { describeError, thrownText } from './error-transfer.js';
import type { MessagePort } from './runtime/node.js';
import { receiveNow } from './runtime/node-pool.js';
import { isThenable } from './thenable.js';
import { type StartData, state } from './thread-state.js';

/**
 * A task as the pool sends it: its id, the export to call (undefined: the pool's), the task, and
 * whether it was sent behind others (the worker then clears its flag as it starts it).
 */
export type TaskMessage = readonly [id: number, exportName: string | undefined, task: unknown, behind: boolean];
/** The index, in the pool's shared word array, of its cancel-everything word. */
export const POOL_CANCELLED = 0;
/** What the pool sends to end the worker once it has no task. */
export const CLOSE_WORKER = 0;
/** A task's end as the worker reports it: its id, whether it returned, the value or error, its run time in ms. */
export type TaskOutcome =
  | readonly [id: number, returned: true, value: unknown, ms: number]
  | readonly [id: number, returned: false, error: ReturnType<typeof describeError>, ms: number];

type Target = (...args: unknown[]) => unknown;
/** How many tasks a worker runs in a row without a turn of its event loop. */
const SYNC_RUN = 64;
type LoadTarget = (href: string, exportName: string) => Promise<Target>;

/** Serves tasks on the start data's port until the pool sends {@link CLOSE_WORKER}. */
export function servePool(start: StartData, loadTarget: LoadTarget): Promise<void> {
  const port: MessagePort = start.port;
  // Each export is loaded once; a failure to load is each task's error, the worker stays.
  const targets = new Map<string, Target | Promise<Target>>();
  const targetOf = (name: string): Target | Promise<Target> => {
    const known = targets.get(name);
    if (known !== undefined) return known;
    const loading = loadTarget(start.moduleHref, name);
    targets.set(name, loading);
    loading.then(
      (loaded) => targets.set(name, loaded),
      () => targets.delete(name),
    );
    return loading;
  };
  // Loaded while the first task is on its way, as a thread of its own loads its target.
  Promise.resolve(targetOf(start.exportName)).catch(() => {});

  // Tasks sent behind the one running wait here: one task at a time, each once the last has ended.
  const waiting: (TaskMessage | typeof CLOSE_WORKER)[] = [];
  let running = false;

  // An idle worker has nothing to clean up: a shutdown that cannot wait for it to exit (one in
  // the process's 'exit', see src/shutdown/shutdown.ts) counts it as done, as a finished target.
  let idle = false;
  const goIdle = (): void => {
    if (idle) return;
    idle = true;
    markFinished(state.block, state.self, 'idle');
  };
  let startedAt = 0;

  const post = (id: number, returned: boolean, value: unknown): void => {
    const ms = performance.now() - startedAt;
    resetForNextTask();
    try {
      port.postMessage([id, returned, returned ? value : describeError(value), ms] as TaskOutcome);
    } catch (cause) {
      if (!returned) throw cause;
      const error = codedError(
        TypeError,
        'ERR_THREAD_RESULT_NOT_CLONEABLE',
        `The value returned by the pool's task cannot be structured-cloned back to the pool (${thrownText(cause)}). Return plain data, or share it through a SharedArrayBuffer.`,
        cause,
      );
      port.postMessage([id, false, describeError(error), ms] satisfies TaskOutcome);
    }
  };

  /** Runs the task; false when it goes on asynchronously (it calls `next()` at its end). */
  const run = (id: number, target: Target, task: unknown): boolean => {
    let result: unknown;
    try {
      result = target(task);
    } catch (error) {
      post(id, false, error);
      return true;
    }
    // A plain value is posted now: no promise, no microtask, for the many tasks that are sync.
    if (!isThenable(result)) {
      post(id, true, result);
      return true;
    }
    Promise.resolve(result).then(
      (value) => {
        post(id, true, value);
        next();
      },
      (error: unknown) => {
        post(id, false, error);
        next();
      },
    );
    return false;
  };

  /** Starts a task; false when it goes on asynchronously. */
  const begin = (message: TaskMessage): boolean => {
    const [id, exportName, task, behind] = message;
    if (idle) {
      idle = false;
      markBusy(state.block, state.self);
    }
    resetForNextTask();
    startedAt = performance.now();
    if (behind) {
      // Cleared first, the pool's word read after: the pool sets its word before it interrupts,
      // so a cancel either shows here or sets the flag again after this clear (never unheard).
      clearInterrupt();
      if (Atomics.load(start.pool!, POOL_CANCELLED) === 1) {
        post(id, false, codedError(Error, 'ERR_POOL_CLOSED', 'The pool was closed with { cancel: true }.'));
        return true;
      }
    }
    const target = targetOf(exportName ?? start.exportName);
    if (typeof target === 'function') return run(id, target, task);
    target.then(
      (loaded) => {
        if (run(id, loaded, task)) next();
      },
      (error: unknown) => {
        post(id, false, error);
        next();
      },
    );
    return false;
  };

  let close!: () => void;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });

  /**
   * Runs the waiting tasks, then those queued on the port, taken at once rather than on a turn of
   * the event loop (the pool sends a busy worker short tasks ahead), one after the other, until one
   * goes on asynchronously. At most SYNC_RUN of them in a row from here: the port's 'message'
   * event takes the rest, which Node delivers in bounded runs between turns of the event loop, so
   * the timers and I/O that tasks started still get their turn.
   */
  const next = (): void => {
    running = false;
    for (let ran = 0; ran < SYNC_RUN; ran++) {
      const message = waiting.shift() ?? (receiveNow(port)?.message as TaskMessage | typeof CLOSE_WORKER | undefined);
      if (message === undefined) {
        goIdle();
        return;
      }
      if (message === CLOSE_WORKER) {
        port.close();
        close();
        return;
      }
      if (!begin(message)) {
        running = true;
        return;
      }
    }
  };

  port.on('message', (message: TaskMessage | typeof CLOSE_WORKER) => {
    waiting.push(message);
    if (!running) next();
  });
  goIdle();
  return closed;
}
