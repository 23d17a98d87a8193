/**
 * What the automatic shutdown does, as `configureShutdown()` sets it: which signals it answers,
 * how long threads get, whether `process.exit()` and uncaught errors trigger it, and where its
 * report goes.
 */
import { codedError, invalidArgType } from '../coded-errors.js';
import { isMainThread } from '../runtime/node.js';
import { SHUTDOWN_SIGNALS, type ShutdownSignal } from '../runtime/node-process.js';
import { validateTimeout } from '../waits/arguments.js';
import { DEFAULT_GRACE_MS, type ShutdownReport } from './shutdown.js';

export type { ShutdownSignal };

/** The settings of the automatic shutdown; see {@link configureShutdown}. */
export interface ShutdownConfig {
  /**
   * The signals that shut the program down when it has no listener of its own for them.
   * Default `['SIGINT', 'SIGTERM', 'SIGHUP']`; `[]` leaves every signal to Node.
   */
  signals?: readonly ShutdownSignal[];
  /** The grace period of an automatic shutdown, in milliseconds. Default 5000. */
  graceMs?: number;
  /** Whether `process.exit()` in the main thread shuts the threads down first. Default true. */
  onExit?: boolean;
  /** Whether an uncaught exception or unhandled rejection that ends the process does. Default true. */
  onUncaught?: boolean;
  /**
   * Where a shutdown's report goes: `true` (default) writes the terminated threads to stderr,
   * `false` says nothing, a function receives every report (and nothing is written).
   */
  report?: boolean | ((report: ShutdownReport) => void);
}

/** The settings in force. */
export interface ResolvedShutdownConfig {
  readonly signals: readonly ShutdownSignal[];
  readonly graceMs: number;
  readonly onExit: boolean;
  readonly onUncaught: boolean;
  readonly report: boolean | ((report: ShutdownReport) => void);
}

/**
 * The settings, shared by every copy of the package in the thread (two versions in
 * `node_modules`): one copy installs the process's hooks (src/shutdown/process-hooks.ts), and the
 * program may configure them through another.
 */
interface SharedConfig {
  current: ResolvedShutdownConfig;
  readonly listeners: Set<() => void>;
}

const CONFIG_KEY = Symbol.for('graceful-threads.shutdown-config.v1');
const holder = globalThis as { [CONFIG_KEY]?: SharedConfig };
holder[CONFIG_KEY] ??= {
  current: {
    signals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
    graceMs: DEFAULT_GRACE_MS,
    onExit: true,
    onUncaught: true,
    report: true,
  },
  listeners: new Set(),
};
const shared: SharedConfig = holder[CONFIG_KEY];

/** The settings in force. */
export function shutdownConfig(): ResolvedShutdownConfig {
  return shared.current;
}

/** Calls `listener` after each change (the process hooks re-apply the signals). */
export function onConfigChange(listener: () => void): void {
  shared.listeners.add(listener);
}

function validateSignals(signals: unknown): readonly ShutdownSignal[] {
  if (!Array.isArray(signals)) throw invalidArgType('config.signals', 'an array of signal names', signals);
  for (const signal of signals) {
    if (!(SHUTDOWN_SIGNALS as readonly unknown[]).includes(signal)) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `The shutdown cannot be tied to ${typeof signal === 'string' ? signal : String(signal)}: config.signals accepts ${SHUTDOWN_SIGNALS.join(', ')} (signals that ask a program to stop; SIGKILL and SIGSTOP cannot be caught).`,
      );
    }
  }
  return [...new Set(signals as ShutdownSignal[])];
}

function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'a boolean', value);
  return value;
}

/**
 * Changes what the automatic whole-program shutdown does, or turns parts of it off. Keys left out
 * keep their setting. The shutdown is installed when the main thread starts its first thread
 * (importing the package installs nothing): from then on SIGINT, SIGTERM and SIGHUP (when the
 * program has no listener of its own for the signal), `process.exit()` and an uncaught error
 * interrupt every thread, give them `graceMs` to end, terminate the rest and report where they
 * were stuck. A signal then exits with 128 + its number (130 for SIGINT); the others keep the
 * program's exit code.
 *
 * @throws `TypeError`/`RangeError` with an `ERR_*` code for a bad setting (nothing changes);
 *   `Error` with code `ERR_SHUTDOWN_FROM_THREAD` outside the main thread.
 * @example
 * ```ts
 * configureShutdown({ graceMs: 10_000, signals: ['SIGINT', 'SIGTERM'] });
 * configureShutdown({ report: (report) => log.warn(report) });
 * configureShutdown({ signals: [], onExit: false, onUncaught: false }); // all off
 * ```
 */
export function configureShutdown(config: ShutdownConfig): void {
  if (!isMainThread) {
    throw codedError(
      Error,
      'ERR_SHUTDOWN_FROM_THREAD',
      "configureShutdown() sets what the process does on signals and exit, which belong to the main thread: call it there (a thread's own exit ends only that thread).",
    );
  }
  if (typeof config !== 'object' || config === null) throw invalidArgType('config', 'an object', config);
  const next = { ...shared.current };
  const { signals, graceMs, onExit, onUncaught, report } = config;
  if (signals !== undefined) next.signals = validateSignals(signals);
  if (graceMs !== undefined) next.graceMs = validateTimeout(graceMs, 'config.graceMs');
  if (onExit !== undefined) next.onExit = validateBoolean(onExit, 'config.onExit');
  if (onUncaught !== undefined) next.onUncaught = validateBoolean(onUncaught, 'config.onUncaught');
  if (report !== undefined && typeof report !== 'boolean' && typeof report !== 'function') {
    throw invalidArgType('config.report', 'a boolean or a function', report);
  }
  if (report !== undefined) next.report = report;
  shared.current = next;
  for (const listener of shared.listeners) listener();
}
