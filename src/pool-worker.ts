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
 * Between tasks this side drops what the last one left in the thread's state (src/current.ts
 * `resetForNextTask`).
 *
 * A task the pool cancelled (its promise already rejected) is followed at once: if the next task
 * is already here, it starts without the cancelled one's outcome being posted; if not, the worker
 * looks at its port a little while before it idles (POLL_AFTER_CANCEL_MS), as the caller usually
 * submits the next task just after `abort()`. Which task the worker runs is in a shared word, so
 * the pool, which may replace the worker for a cancelled task, knows when it went past it.
 */

import { codedError } from './coded-errors.js';
import { clearInterruptFlag, markBusy, markFinished } from './control-block.js';
import { resetForNextTask } from './current.js';
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
/**
 * The words a pool shares with each of its workers (an `Int32Array` of {@link POOL_WORDS}):
 * - `POOL_CANCELLED`: 1 once `close({ cancel: true })` ran (the pool writes it);
 * - `CANCELLED_TASK`: the id of the task the pool cancelled while the worker ran it (the pool);
 * - `RUNNING_TASK`: the id of the task the worker runs or ran last (the worker, as it starts
 *   one), or `REPLACING` once the pool claimed the worker to replace it (the pool). Both sides
 *   write it with compare-and-swap: a worker either starts its next task or is replaced, never
 *   both.
 */
export const POOL_CANCELLED = 0;
export const CANCELLED_TASK = 1;
export const RUNNING_TASK = 2;
export const POOL_WORDS = 3;
/** `RUNNING_TASK` once the pool replaces the worker: it starts no other task. Task ids are positive. */
export const REPLACING = -1;
/** What the pool sends to end the worker once it has no task. */
export const CLOSE_WORKER = 0;
/** A task's end as the worker reports it: its id, whether it returned, the value or error, its run time in ms. */
export type TaskOutcome =
  | readonly [id: number, returned: true, value: unknown, ms: number]
  | readonly [id: number, returned: false, error: ReturnType<typeof describeError>, ms: number]
  // A task the pool cancelled (its promise rejected already): only that it ended.
  | readonly [id: number, returned: boolean, ended: undefined, ms: number];

type Target = (...args: unknown[]) => unknown;
/** How many tasks a worker runs in a row without a turn of its event loop. */
const SYNC_RUN = 64;
/**
 * How long (ms) a worker whose task was cancelled looks at its port before it idles. The usual
 * caller aborts a task and submits the next, but the next is sent only after `abort()` has
 * returned, some 5-20 us after the task saw its flag and ended; an idle worker is woken by the
 * port's 'message' event 7-30 us after the send (measured on a 2-core machine, idle to loaded).
 * Looking costs the CPU this long at most, once per cancel (7-30 us when the task comes); a close
 * comes on the same port and is seen at once.
 */
const POLL_AFTER_CANCEL_MS = 0.1;
type LoadTarget = (href: string, exportName: string) => Promise<Target>;

/** The next message on `port` within `ms`, looked for without a turn of the event loop. */
function pollPort(port: MessagePort, ms: number): TaskMessage | typeof CLOSE_WORKER | undefined {
  const until = performance.now() + ms;
  do {
    const received = receiveNow(port);
    if (received !== undefined) return received.message as TaskMessage | typeof CLOSE_WORKER;
  } while (performance.now() < until);
  return undefined;
}

/** Serves tasks on the start data's port until the pool sends {@link CLOSE_WORKER}. */
export function servePool(start: StartData, loadTarget: LoadTarget): Promise<void> {
  const port: MessagePort = start.port;
  const words = start.pool!;
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
  // The id of the task this worker runs or ran last (its RUNNING_TASK word).
  let current = 0;
  // Claimed by the pool to be replaced: it starts nothing more, its termination is on its way.
  let replaced = false;
  // The last task was cancelled and nothing was waiting: see POLL_AFTER_CANCEL_MS.
  let pollNext = false;
  // The thread's state is reset since the last task ended, and no code ran since (no turn of the
  // event loop, where what a task left behind may run): the next task need not reset it again.
  let reset = false;

  /** The next message, taken now if one is queued on the port, into `waiting`. */
  const peek = (): TaskMessage | typeof CLOSE_WORKER | undefined => {
    if (waiting.length === 0) {
      const received = receiveNow(port);
      if (received === undefined) return undefined;
      waiting.push(received.message as TaskMessage | typeof CLOSE_WORKER);
    }
    return waiting[0];
  };

  const post = (id: number, returned: boolean, value: unknown): void => {
    const cancelled = Atomics.load(words, CANCELLED_TASK) === id;
    if (cancelled) {
      resetForNextTask();
      // The pool has settled this task's promise already. When the next task is here, it starts
      // without this outcome: posting it would wake the pool's thread, which on a busy machine
      // takes the CPU from this worker just as the next task starts. The next task's outcome
      // (or, for a replacement, RUNNING_TASK) tells the pool that this one ended.
      if (peek() !== undefined && waiting[0] !== CLOSE_WORKER) {
        reset = true;
        return;
      }
      pollNext = true;
    }
    const ms = performance.now() - startedAt;
    try {
      // A cancelled task's value or error goes nowhere (its promise rejected with the signal's
      // reason): neither cloned nor described (the error's stack formatted) here, nor rebuilt by
      // the pool, on the way from its end to the next task.
      port.postMessage(
        (cancelled
          ? [id, returned, undefined, ms]
          : [id, returned, returned ? value : describeError(value), ms]) as TaskOutcome,
      );
    } catch (cause) {
      if (!returned) throw cause;
      const error = codedError(
        TypeError,
        'ERR_THREAD_RESULT_NOT_CLONEABLE',
        `The value returned by the pool's task cannot be structured-cloned back to the pool (${thrownText(cause)}). Return plain data, or share it through a SharedArrayBuffer.`,
        cause,
      );
      port.postMessage([id, false, describeError(error), ms] satisfies TaskOutcome);
    } finally {
      // After the outcome is on its way: the pool's thread wakes the sooner. Nothing of this
      // thread runs in between, and the pool reads none of it.
      resetForNextTask();
      reset = true;
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

  /** Starts a task; false when it goes on asynchronously (or never, once replaced). */
  const begin = (message: TaskMessage): boolean => {
    // Indexed rather than destructured: unoptimized code destructures an array through its iterator.
    const id = message[0];
    if (Atomics.compareExchange(words, RUNNING_TASK, current, id) !== current) {
      // The pool is replacing this worker (its cancelled task ignored the interrupt until now).
      replaced = true;
      return false;
    }
    current = id;
    // A cancel that came after its task had ended leaves that task's id: not this task's.
    const cancelled = Atomics.load(words, CANCELLED_TASK);
    if (cancelled !== 0 && cancelled !== id) Atomics.compareExchange(words, CANCELLED_TASK, cancelled, 0);
    if (idle) {
      idle = false;
      markBusy(state.block, state.self);
    }
    // Reset already when the last task's end led here without a turn of the event loop.
    if (!reset) resetForNextTask();
    reset = false;
    startedAt = performance.now();
    if (message[3]) {
      // Cleared first, the pool's word read after: the pool sets its word before it interrupts,
      // so a cancel either shows here or sets the flag again after this clear (never unheard).
      // The flag alone: resetForNextTask() above dropped the reason read and the signal.
      clearInterruptFlag(state.block, state.self);
      if (Atomics.load(words, POOL_CANCELLED) === 1) {
        post(id, false, codedError(Error, 'ERR_POOL_CLOSED', 'The pool was closed with { cancel: true }.'));
        return true;
      }
    }
    // The flag is clear from here (the pool clears it before it sends a task, this thread above
    // for a task sent behind others): asyncInterrupt's checks may throw again. Not at the last
    // task's end: its flag stays set while the worker is idle, and what that task left behind (a
    // timer) must not get a second throw for its interrupt.
    state.asyncThrown = false;
    const task = message[2];
    const target = targetOf(message[1] ?? start.exportName);
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
    if (replaced) return;
    running = false;
    for (let ran = 0; ran < SYNC_RUN; ran++) {
      let message = waiting.shift() ?? (receiveNow(port)?.message as TaskMessage | typeof CLOSE_WORKER | undefined);
      if (message === undefined && pollNext) {
        // Idle for a shutdown meanwhile: this worker has nothing to clean up.
        goIdle();
        message = pollPort(port, POLL_AFTER_CANCEL_MS);
      }
      pollNext = false;
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
    // A task taken off the port for `post` waits in `waiting`, which no 'message' event announces.
    if (waiting.length > 0) setTimeout(resume, 0);
  };
  const resume = (): void => {
    reset = false;
    if (!running) next();
  };

  port.on('message', (message: TaskMessage | typeof CLOSE_WORKER) => {
    waiting.push(message);
    reset = false;
    if (!running) next();
  });
  goIdle();
  return closed;
}
