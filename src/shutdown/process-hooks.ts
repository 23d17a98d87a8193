/**
 * The automatic whole-program shutdown: ties `runShutdown` to the signals that ask the program to
 * stop, and `runShutdownSync` to the process's exit (`process.exit()`, an uncaught exception, an
 * unhandled rejection). Installed by the main thread's first `start()`, never by an import.
 *
 * A program with its own listener for a signal keeps full control of it: the listener here then
 * does nothing, and the program may call `shutdown()` itself.
 */
import type { ControlBlock } from '../control-block.js';
import { encodeReason } from '../reason.js';
import { monotonicMs } from '../runtime/node.js';
import {
  type ExitCause,
  exitProcess,
  listenToSignal,
  onProcessExit,
  othersListen,
  type ShutdownSignal,
  signalExitCode,
  soon,
  stdioDrained,
  stopListeningToSignal,
  writeStderr,
} from '../runtime/node-process.js';
import { onConfigChange, shutdownConfig } from './config.js';
import { reportText } from './report-text.js';
import { type ForceSwitch, rehearseShutdown, runShutdown, runShutdownSync, type ShutdownReport } from './shutdown.js';

const HOOKS_INSTALLED = Symbol.for('graceful-threads.shutdown-hooks.v1');
let registry: ControlBlock | undefined;
const tied = new Set<ShutdownSignal>();
/** The signal whose shutdown is under way, and how to cut its grace period short. */
let underway: { readonly signal: ShutdownSignal; readonly force: ForceSwitch } | undefined;
/** Set while {@link rehearseSignalPath} calls {@link onSignal} and {@link deliver}, which then return at once. */
let rehearsing = false;

function deliver(report: ShutdownReport, cause: string, graceMs: number, forced: boolean): void {
  const { report: sink } = shutdownConfig();
  if (sink === false || rehearsing) return;
  if (typeof sink === 'function') {
    try {
      sink(report);
    } catch (error) {
      writeStderr(`graceful-threads: the shutdown report handler threw: ${String(error)}\n`);
    }
    return;
  }
  const text = reportText(report, cause, graceMs, forced);
  if (text !== '') writeStderr(text);
}

function onSignal(signal: ShutdownSignal): void {
  if (rehearsing || othersListen(signal, onSignal) || registry === undefined) return;
  if (underway !== undefined) {
    // Another stop signal during the grace period (a second Ctrl-C, a supervisor's SIGTERM after
    // a Ctrl-C): stop waiting, as that signal would end a program without the library at once.
    // The exit code stays the first signal's: its shutdown is the one that ends.
    underway.force.forceNow?.();
    return;
  }
  const force: ForceSwitch = { forceNow: undefined };
  underway = { signal, force };
  const { graceMs } = shutdownConfig();
  let forced = false;
  const forceNow = (): void => {
    forced = true;
  };
  // Not performance.now(): the first use of `performance` in a thread loads Node's perf_hooks
  // modules (1-3 ms on Node 26), which would fall between the signal and the interrupts.
  const started = monotonicMs();
  // The callbacks parenthesized: compiled with onSignal, in its rehearsal (rehearseSignalPath).
  void runShutdown(registry, encodeReason(signal), graceMs, force, true, forceNow).then(
    // biome-ignore format: the parentheses are V8's eager-compilation hint
    (async function signalShutdownDone(report: ShutdownReport): Promise<void> {
      deliver(report, signal, graceMs, forced);
      // What the threads (and the program) printed may still wait for a slow reader of stdout:
      // exiting now would drop it. Waited for within what is left of the grace period; a second
      // signal stops the wait.
      // The timer is referenced: the wait must hold the process, else a stream that never drains
      // (one the program replaced) lets the event loop empty and Node exit with code 0.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await stdioDrained((done) => {
        force.forceNow = done;
        const left = started + graceMs - monotonicMs();
        timer = left <= 2 ** 31 - 1 ? setTimeout(done, Math.max(0, left)) : setInterval(() => {}, 2 ** 31 - 1);
      });
      clearTimeout(timer);
      exitProcess(signalExitCode(signal));
    }),
    (error: unknown) => {
      writeStderr(`graceful-threads: the shutdown on ${signal} failed: ${String(error)}\n`);
      exitProcess(signalExitCode(signal));
    },
  );
}

function applySignals(): void {
  const wanted = new Set(shutdownConfig().signals);
  for (const signal of tied) {
    if (!wanted.has(signal)) {
      stopListeningToSignal(signal, onSignal);
      tied.delete(signal);
    }
  }
  for (const signal of wanted) {
    if (!tied.has(signal)) {
      listenToSignal(signal, onSignal);
      tied.add(signal);
    }
  }
}

function onExit(cause: ExitCause): void {
  // After a signal's shutdown, whose own exit this is, nothing is left to do.
  if (registry === undefined || cause === 'natural' || underway !== undefined) return;
  const config = shutdownConfig();
  if (cause === 'exit' ? !config.onExit : !config.onUncaught) return;
  // The main thread blocks from here: the listeners here could not run, and a Ctrl-C that
  // found them would do nothing. Without them, a signal does what Node does (ends the process).
  for (const signal of tied) stopListeningToSignal(signal, onSignal);
  tied.clear();
  const report = runShutdownSync(registry, encodeReason(cause === 'exit' ? 'process.exit' : cause), config.graceMs);
  deliver(report, cause === 'exit' ? 'process.exit()' : `an ${cause}`, config.graceMs, false);
}

/**
 * Installs the shutdown hooks for the group whose registry is `block`, once; later calls do
 * nothing. Called by the main thread as it starts a thread.
 */
export function installShutdownHooks(block: ControlBlock): void {
  if (registry !== undefined) return;
  // Two copies of the package in one process (two versions in node_modules) share the threads'
  // registry: one shutdown covers them all. Two sets of hooks would each see the other's signal
  // listener as the program's own and step aside, leaving Ctrl-C to nobody.
  const global = globalThis as { [HOOKS_INSTALLED]?: true };
  if (global[HOOKS_INSTALLED] === true) return;
  global[HOOKS_INSTALLED] = true;
  registry = block;
  applySignals();
  onConfigChange(applySignals);
  onProcessExit(onExit);
  // Once the caller's tick is over (it may be starting more threads): what a signal runs here,
  // compiled ahead of the signal.
  soon(rehearseSignalPath);
}

/**
 * Compiles ahead of a signal what its shutdown runs in this thread, by running it where that has
 * no effect: the shutdown's sequence on a control block of its own (rehearseShutdown), onSignal up
 * to its first line, the report's delivery up to its check, the process's exit listener as on a
 * natural exit, and the pure helpers of its end. V8 compiles a function on its first call:
 * left to the signal, these compilations (0.5-1 ms on Node 26) fall on its way, half of them
 * before the first interrupt. Not parenthesized instead: every thread that loads this file
 * would compile them as it loads.
 */
function rehearseSignalPath(): void {
  try {
    rehearseShutdown();
    othersListen('SIGINT', onSignal);
    reportText({ ended: [], terminated: [], ms: 0 }, 'SIGINT', 0, false);
    signalExitCode('SIGINT');
    onExit('natural');
    // What a signal's shutdown runs last: a look at what is left to write, on no stream (the
    // program's own are not read here: that would make them).
    void stdioDrained((done) => done(), []);
    clearTimeout(undefined);
    rehearsing = true;
    onSignal('SIGINT');
    deliver({ ended: [], terminated: [], ms: 0 }, 'SIGINT', 0, false);
  } catch {
    // Only ever a head start: the signal runs the same code.
  } finally {
    rehearsing = false;
  }
}
