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
import {
  type ExitCause,
  exitProcess,
  listenToSignal,
  onProcessExit,
  othersListen,
  type ShutdownSignal,
  signalExitCode,
  stopListeningToSignal,
  writeStderr,
} from '../runtime/node-process.js';
import { onConfigChange, shutdownConfig } from './config.js';
import { reportText } from './report-text.js';
import { type ForceSwitch, runShutdown, runShutdownSync, type ShutdownReport } from './shutdown.js';

let registry: ControlBlock | undefined;
const tied = new Set<ShutdownSignal>();
/** The signal whose shutdown is under way, and how to cut its grace period short. */
let underway: { readonly signal: ShutdownSignal; readonly force: ForceSwitch } | undefined;

function deliver(report: ShutdownReport, cause: string, graceMs: number): void {
  const { report: sink } = shutdownConfig();
  if (sink === false) return;
  if (typeof sink === 'function') {
    try {
      sink(report);
    } catch (error) {
      writeStderr(`graceful-threads: the shutdown report handler threw: ${String(error)}\n`);
    }
    return;
  }
  const text = reportText(report, cause, graceMs);
  if (text !== '') writeStderr(text);
}

function onSignal(signal: ShutdownSignal): void {
  if (othersListen(signal, onSignal) || registry === undefined) return;
  if (underway !== undefined) {
    // The same signal again during the grace period (a second Ctrl-C): stop waiting.
    if (underway.signal === signal) underway.force.forceNow?.();
    return;
  }
  const force: ForceSwitch = { forceNow: undefined };
  underway = { signal, force };
  const { graceMs } = shutdownConfig();
  void runShutdown(registry, encodeReason(signal), graceMs, force, true).then(
    (report) => {
      deliver(report, signal, graceMs);
      exitProcess(signalExitCode(signal));
    },
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
  if (registry === undefined || cause === 'natural') return;
  const config = shutdownConfig();
  if (cause === 'exit' ? !config.onExit : !config.onUncaught) return;
  const report = runShutdownSync(registry, encodeReason(cause === 'exit' ? 'process.exit' : cause), config.graceMs);
  deliver(report, cause === 'exit' ? 'process.exit()' : `an ${cause}`, config.graceMs);
}

/**
 * Installs the shutdown hooks for the group whose registry is `block`, once; later calls do
 * nothing. Called by the main thread as it starts a thread.
 */
export function installShutdownHooks(block: ControlBlock): void {
  if (registry !== undefined) return;
  registry = block;
  applySignals();
  onConfigChange(applySignals);
  onProcessExit(onExit);
}
