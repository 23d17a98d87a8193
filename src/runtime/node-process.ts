/**
 * The process-wide events a whole-program shutdown hooks into (signals, `process.exit()`,
 * uncaught errors) and the standard error stream its report goes to: Node's side of
 * src/shutdown/process-hooks.ts.
 */

/** The signals a shutdown may be tied to: the ones that ask a program to stop (never SIGKILL). */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGBREAK', 'SIGUSR2'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Why the process is exiting, as the exit listeners see it. */
export type ExitCause = 'exit' | 'uncaughtException' | 'unhandledRejection' | 'natural';

/**
 * The signals numbered alike on every system Node runs on (POSIX's historical numbers; Windows
 * has no SIGQUIT, whose listener never fires there).
 */
const FIXED_SIGNAL_NUMBERS: Partial<Record<ShutdownSignal, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/** The conventional exit code of a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: ShutdownSignal): number {
  // Without node:os for the common ones: its first load in a process costs 0.15-0.35 ms (Node 20,
  // 26), which a signal's shutdown paid between its threads' ends and the exit.
  const fixed = FIXED_SIGNAL_NUMBERS[signal];
  if (fixed !== undefined) return 128 + fixed;
  const numbers = process.getBuiltinModule('node:os').constants.signals as Record<string, number | undefined>;
  return 128 + (numbers[signal] ?? 0);
}

/**
 * The signals a listener was removed from since the last microtask checkpoint. A once-listener
 * that runs ahead of ours (`prependOnceListener()` after ours was added) removes itself before it
 * runs: during the signal's emit it is gone from `process.listeners()`, but not from here.
 */
const removedThisTurn = new Set<string | symbol>();
/** Our listener for each signal we listen to. */
const ours = new Map<string | symbol, (signal: ShutdownSignal) => void>();
let watching = false;

/** Whether the program has listeners of its own for `signal`, besides `ours`. */
export function othersListen(signal: ShutdownSignal, ours: (signal: ShutdownSignal) => void): boolean {
  return removedThisTurn.has(signal) || process.listeners(signal).some((listener) => listener !== ours);
}

/**
 * Whether `process` emits 'removeListener' as Node's does. Bun's does not (its `process` is a
 * native emitter: oven-sh/bun#5121), so there a once-listener gone before ours runs leaves no trace.
 */
function processEmitsRemoveListener(): boolean {
  const probe = Symbol('graceful-threads probe');
  const noop = (): void => {};
  let seen = false;
  const watch = (event: string | symbol): void => {
    if (event === probe) seen = true;
  };
  process.on('removeListener', watch);
  process.on(probe, noop);
  process.off(probe, noop);
  process.off('removeListener', watch);
  return seen;
}

/** Watches the program's signal listeners so that othersListen() sees them as the signal came. */
function watchListeners(): void {
  if (processEmitsRemoveListener()) {
    process.on('removeListener', (event, removed) => {
      if (!ours.has(event) || removed === ours.get(event)) return;
      removedThisTurn.add(event);
      queueMicrotask(() => removedThisTurn.delete(event));
    });
    return;
  }
  // Without 'removeListener', ours moves back in front of a listener the program adds: it then
  // runs first, and sees a once-listener that is about to remove itself.
  // Once per signal and turn: a listener of another library that also keeps itself first would
  // otherwise move back in front of ours, and ours in front of it, for good.
  const moved = new Set<string | symbol>();
  process.on('newListener', (event, added) => {
    const listener = ours.get(event);
    if (listener === undefined || added === listener || moved.has(event)) return;
    moved.add(event);
    setImmediate(() => moved.delete(event)).unref?.();
    // 'newListener' comes before the listener is added.
    queueMicrotask(() => {
      if (ours.get(event) !== listener) return;
      process.off(event, listener);
      process.prependListener(event, listener);
    });
  });
}

/**
 * Adds `listener` for `signal` in front of the others: it must see the program's own listeners
 * as they were when the signal came, before a `process.once()` listener removes itself.
 */
export function listenToSignal(signal: ShutdownSignal, listener: (signal: ShutdownSignal) => void): void {
  if (!watching) {
    watching = true;
    watchListeners();
  }
  ours.set(signal, listener);
  process.prependListener(signal, listener as NodeJS.SignalsListener);
}

export function stopListeningToSignal(signal: ShutdownSignal, listener: (signal: ShutdownSignal) => void): void {
  ours.delete(signal);
  process.off(signal, listener);
}

/**
 * Whether the capture callback of `process.setUncaughtExceptionCaptureCallback()` (the `domain`
 * module's) takes uncaught errors: the thread or process does not end of them then. Not every
 * runtime has the method.
 */
export function uncaughtIsCaptured(): boolean {
  const has = (process as { hasUncaughtExceptionCaptureCallback?: () => boolean }).hasUncaughtExceptionCaptureCallback;
  return typeof has === 'function' && has.call(process);
}

/**
 * Calls `listener` as the process exits, with the exit code and why: `process.exit()`, an
 * uncaught exception or unhandled rejection that ends the process, or the natural end of the
 * event loop (which Node reaches only once no referenced thread runs).
 */
export function onProcessExit(listener: (cause: ExitCause, exitCode: number) => void): void {
  let fatal: ExitCause | undefined;
  let natural = false;
  let exited = false;
  // Parenthesized, as the 'exit' listener below: compiled now, not in the process's 'exit'.
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  const exit = (function exit(cause: ExitCause, exitCode: number): void {
    if (exited) return;
    exited = true;
    listener(cause, exitCode);
  });
  process.on('uncaughtExceptionMonitor', (_error, origin) => {
    // With a listener of the program's own, the process does not end of it.
    if (process.listenerCount('uncaughtException') > 0 || uncaughtIsCaptured()) return;
    fatal = origin;
    // Deno ends the process of it without emitting 'exit' (Node emits it, with code 1): now is
    // the last moment, and the error is printed after.
    if (exitSkippedOnFatalError) exit(origin, 1);
  });
  process.on('beforeExit', () => {
    // 'beforeExit' comes only at the natural end. Should its listeners schedule more work, the
    // loop goes on: this unreferenced callback then runs, and a later exit is not natural. One
    // of them calling process.exit() is seen in the 'exit' listener.
    natural = true;
    // Not on Bun, which runs an unreferenced immediate scheduled here and then emits 'beforeExit'
    // again, forever (the process never ends): there a later exit after more work counts as natural.
    if (process.versions.bun !== undefined) return;
    setImmediate(() => {
      natural = false;
    }).unref();
  });
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  process.on('exit', (function processExit(exitCode: number): void {
    exit(fatal ?? (natural && !calledByProcessExit() ? 'natural' : 'exit'), exitCode);
  }));
}

/**
 * Whether the process ends of an uncaught error or unhandled rejection without emitting 'exit':
 * Deno does (2.9.6; its 'uncaughtExceptionMonitor' still comes), Node and Bun emit it.
 */
const exitSkippedOnFatalError = (globalThis as { Deno?: unknown }).Deno !== undefined;

/**
 * Whether this 'exit' comes from a `process.exit()` call: at the natural end too, when a
 * 'beforeExit' listener calls it while the end looked natural. Its frame is on the stack:
 * `process.exit (node:...)` on Node and Deno, `exit (unknown)` on Bun.
 */
export function calledByProcessExit(): boolean {
  // Typed as always set, which it is not until a program sets it.
  const errors = Error as { stackTraceLimit: number; prepareStackTrace?: unknown };
  const { stackTraceLimit, prepareStackTrace } = errors;
  try {
    // The engine's own format: a program's prepareStackTrace (source maps, a custom layout, one
    // that throws) must neither hide the frame nor throw out of this 'exit' listener.
    errors.prepareStackTrace = undefined;
    errors.stackTraceLimit = 50;
    return /\n\s+at (?:process\.)?exit \((?:node:|unknown\))/.test(String(new Error().stack));
  } catch {
    return false;
  } finally {
    errors.stackTraceLimit = stackTraceLimit;
    errors.prepareStackTrace = prepareStackTrace;
  }
}

/**
 * Resolves once what this process wrote to stdout and stderr has left it, or `stop` is called
 * (the deadline, a second signal). Node writes to a pipe without blocking: what a slow reader has
 * not taken yet waits in the process, and `process.exit()` drops it (a thread's 1 MiB farewell
 * reached a pipe cut to 64-144 KiB). A thread's output is piped into stdout by the parent, which
 * pauses the thread's stream while stdout is full, so one drain is not the end: look again after
 * a turn, once the resumed stream has written what it held.
 */
export function stdioDrained(
  stop: (done: () => void) => void,
  // A parameter for the rehearsal, which passes none: reading process.stdout makes the stream,
  // which on a pipe sets O_NONBLOCK on a descriptor the process may share with others.
  streams: readonly (NodeJS.WriteStream | undefined)[] = [process.stdout, process.stderr],
): Promise<void> {
  // A stream whose reader went away (EPIPE) is destroyed, and a corked one sends nothing until
  // the program uncorks it: nothing in either will leave.
  // The predicate parenthesized: compiled with pending(), which the rehearsal runs on no stream
  // (it never calls the predicate), not as a signal's shutdown ends.
  const pending = (): NodeJS.WriteStream | undefined =>
    // biome-ignore format: the parentheses are V8's eager-compilation hint
    streams.find((function unsent(stream: NodeJS.WriteStream | undefined): boolean {
      return (
        stream !== undefined &&
        !stream.destroyed &&
        (stream.writableCorked ?? 0) === 0 &&
        (stream.writableLength ?? 0) > 0
      );
    }));
  if (pending() === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    let over = false;
    const done = (): void => {
      over = true;
      resolve();
    };
    stop(done);
    const look = (): void => {
      if (over) return;
      const stream = pending();
      if (stream === undefined) done();
      else {
        let seen = false;
        const next = (): void => {
          if (seen) return;
          seen = true;
          stream.off('drain', next).off('close', next).off('error', next);
          setImmediate(look);
        };
        // 'error': the reader went away (EPIPE) while this waited; seen here, it does not end the
        // process as an uncaught error (exit 1) in place of the signal's code.
        stream.once('drain', next).once('close', next).once('error', next);
      }
    };
    look();
  });
}

/**
 * Runs `task` once the event loop next turns (after what the caller's tick and the pending I/O
 * run), without keeping the process alive for it.
 */
export function soon(task: () => void): void {
  setImmediate(task).unref?.();
}

/** Exits the process with `code`. */
// Parenthesized: compiled with the module, not as a signal's shutdown ends (a rehearsal cannot call it).
// biome-ignore format: the parentheses are V8's eager-compilation hint
export const exitProcess = (function exitProcess(code: number): never {
  process.exit(code);
});

/** Writes to standard error synchronously (files and pipes are, on POSIX), so it survives the exit. */
export function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {}
}
