/**
 * Inside a `ThreadPool`'s worker: runs the tasks its pool sends, one at a time, until the pool
 * closes it. The bootstrap (src/bootstrap.ts) hands over to it when the start data says `pool`.
 *
 * One task at a time, and the next only once the last has ended: a task's promise settling
 * (its async `finally` included) is its end, and only then is its outcome posted, which is what
 * frees the worker in its pool. The pool clears the worker's flag as it dispatches a task (a
 * cancel of that task sent after the dispatch must stay set); this side drops what the last task
 * left in the thread's state (src/current.ts `resetForNextTask`).
 */
import { resetForNextTask } from './current.js';
import { describeError, thrownText } from './error-transfer.js';
import { codedError } from './errors.js';
import type { MessagePort } from './runtime/node.js';
import type { StartData } from './thread-state.js';

/** A task as the pool sends it: its id, the export to call (undefined: the pool's), the task. */
export type TaskMessage = readonly [id: number, exportName: string | undefined, task: unknown];
/** What the pool sends to end the worker once it has no task. */
export const CLOSE_WORKER = 0;
/** A task's end as the worker reports it: its id, whether it returned, the value or error. */
export type TaskOutcome =
  | readonly [id: number, returned: true, value: unknown]
  | readonly [id: number, returned: false, error: ReturnType<typeof describeError>];

type Target = (...args: unknown[]) => unknown;
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

  const post = (outcome: TaskOutcome): void => {
    resetForNextTask();
    try {
      port.postMessage(outcome);
    } catch (cause) {
      if (!outcome[1]) throw cause;
      const error = codedError(
        TypeError,
        'ERR_THREAD_RESULT_NOT_CLONEABLE',
        `The value returned by the pool's task cannot be structured-cloned back to the pool (${thrownText(cause)}). Return plain data, or share it through a SharedArrayBuffer.`,
        cause,
      );
      port.postMessage([outcome[0], false, describeError(error)] satisfies TaskOutcome);
    }
  };
  const failed = (id: number, error: unknown): void => post([id, false, describeError(error)]);

  const run = (id: number, target: Target, task: unknown): void => {
    let result: unknown;
    try {
      result = target(task);
    } catch (error) {
      failed(id, error);
      return;
    }
    // A plain value is posted now: no promise, no microtask, for the many tasks that are sync.
    if (!isThenable(result)) {
      post([id, true, result]);
      return;
    }
    Promise.resolve(result).then(
      (value) => post([id, true, value]),
      (error: unknown) => failed(id, error),
    );
  };

  return new Promise((resolve) => {
    port.on('message', (message: TaskMessage | typeof CLOSE_WORKER) => {
      if (message === CLOSE_WORKER) {
        port.close();
        resolve();
        return;
      }
      const [id, exportName, task] = message;
      resetForNextTask();
      const target = targetOf(exportName ?? start.exportName);
      if (typeof target === 'function') {
        run(id, target, task);
        return;
      }
      target.then(
        (loaded) => run(id, loaded, task),
        (error: unknown) => failed(id, error),
      );
    });
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}
