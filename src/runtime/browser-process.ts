/**
 * The browser's side of ./node-process.ts: a page has no process, no signals and no exit code.
 * The automatic shutdown never triggers (`shutdown()` itself works); the report goes to the
 * console.
 */
import { unsupportedInBrowser } from './browser-errors.js';

export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGBREAK', 'SIGUSR2'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];
export type ExitCause = 'exit' | 'uncaughtException' | 'unhandledRejection' | 'natural';

export function signalExitCode(_signal: ShutdownSignal): number {
  return 0;
}

export function othersListen(_signal: ShutdownSignal, _ours: (signal: ShutdownSignal) => void): boolean {
  return false;
}

/** No signal ever comes to a page: listening to one does nothing. */
export function listenToSignal(_signal: ShutdownSignal, _listener: (signal: ShutdownSignal) => void): void {}

export function stopListeningToSignal(_signal: ShutdownSignal, _listener: (signal: ShutdownSignal) => void): void {}

/** A page does not exit: nothing to listen to. */
export function onProcessExit(_listener: (cause: ExitCause, exitCode: number) => void): void {}

/** A page has no stdout to wait for. */
export function stdioDrained(_stop: (done: () => void) => void, _streams?: readonly unknown[]): Promise<void> {
  return Promise.resolve();
}

/** No signal reaches a page: there is no shutdown path to prepare. */
export function soon(_task: () => void): void {}

export function exitProcess(_code: number): never {
  throw unsupportedInBrowser('Exiting the process', 'Close the page or end the threads with shutdown().');
}

export function writeStderr(text: string): void {
  console.error(text.replace(/\n$/, ''));
}
