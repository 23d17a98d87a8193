/**
 * The browser's side of ./node.ts, with the same exports: threads are module Web Workers. The
 * package's browser build (dist/browser/, scripts/build.mjs) puts this module, and the other
 * `browser-*.ts` modules of this folder, in place of their `node*.ts` counterparts.
 *
 * A Web Worker differs from a Node worker thread in what the rest of the package leans on, and
 * this module makes up for it:
 * - It gets no start data before its first line runs: the spawner posts it, and the worker's
 *   entry (a small module made here, loaded from a blob: URL) keeps it on a registered global
 *   symbol before it imports the target, which imports the package, which finds it there.
 * - It never ends on its own (no event loop that empties) and its spawner hears no `'exit'`:
 *   the thread ends when its target settles ({@link endThread}), posting a last message on its
 *   report port so that the spawner, which reads that port, sees the outcome before the end.
 * - It has no synchronous read of a port: messages are queued as they arrive.
 * - A page's main thread cannot block: `Atomics.wait` throws there ({@link assertCanBlock}).
 */

import { runningThreads } from '../shutdown/running-threads.js';
import {
  cannotBlockHere,
  isolationRequired,
  packageNotImported,
  unsupportedInBrowser,
  workerNotStarted,
} from './browser-errors.js';

/** A browser's `MessagePort`, as much of it as the package uses. */
export interface MessagePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  close(): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
}

/** What a thread is started with: the start data and what must be transferred to the thread. */
export interface WorkerOptions {
  name?: string;
  workerData?: unknown;
  transferList?: readonly unknown[];
  // The Node-only options of ThreadOptions, which a Web Worker has no use for.
  env?: unknown;
  execArgv?: string[];
  argv?: unknown[];
  resourceLimits?: unknown;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** The browser's `Worker`, as much of it as the package uses. */
interface WebWorker {
  postMessage(message: unknown, transfer: readonly unknown[]): void;
  terminate(): void;
  addEventListener(
    type: 'error',
    listener: (event: { preventDefault(): void; readonly message?: unknown }) => void,
  ): void;
}

/** A thread's Web Worker, with a thread id and a `terminate()` that resolves as Node's does. */
export interface Worker {
  readonly threadId: number;
  /** The Web Worker itself. */
  readonly webWorker: WebWorker;
  /** Stops the worker at once; resolves with exit code 1. */
  terminate(): Promise<number>;
}

/** What a worker's entry keeps on {@link START_HOLDER} for the package to find. */
interface StartHolder {
  readonly workerData: unknown;
  readonly threadId: number;
  /** The spawner's base URL, for relative module paths (a blob: worker has none of its own). */
  readonly baseHref: string;
  /** The report port, on which the thread's end is said last. */
  readonly exitPort: MessagePort;
  /** Settles once the target module has been evaluated (with the error it failed with, if any). */
  readonly loading: Promise<unknown>;
  /** Set by each copy of this module that loads in the worker. */
  runtimeLoaded?: boolean;
}

interface BrowserGlobal {
  readonly crossOriginIsolated?: boolean;
  readonly location?: { readonly href: string };
  readonly navigator?: { readonly userAgent?: string; readonly hardwareConcurrency?: number };
  readonly Worker?: new (url: string, options: { type: 'module'; name?: string }) => WebWorker;
  readonly WorkerGlobalScope?: unknown;
  readonly document?: unknown;
  addEventListener?(type: string, listener: (event: never) => void): void;
  close?(): void;
}

const scope = globalThis as unknown as BrowserGlobal;

// SharedArrayBuffer is gone, or unusable across threads, in a page that is not cross-origin
// isolated: say so, with the headers to send, before anything fails on it.
if (typeof SharedArrayBuffer !== 'function' || scope.crossOriginIsolated === false) throw isolationRequired();

const START_HOLDER: unique symbol = Symbol.for('graceful-threads.browser-start.v1') as never;
const holder = (globalThis as unknown as { [START_HOLDER]?: StartHolder })[START_HOLDER];
if (holder !== undefined) holder.runtimeLoaded = true;

/**
 * Whether the engine is V8, told by what no user-agent override changes (Firefox's responsive
 * design mode, an extension or a test driver can make Firefox say `Chrome/`): V8 alone writes
 * its stack frames as `    at f (url:line:col)` (SpiderMonkey and JavaScriptCore write
 * `f@url:line:col`), and alone has `Intl.v8BreakIterator`. Either way wrong only towards
 * Atomics.load (a user's `Error.stackTraceLimit = 0` in a V8 without the iterator): slower, not unsafe.
 */
function engineIsV8(): boolean {
  if (typeof (Intl as { v8BreakIterator?: unknown }).v8BreakIterator === 'function') return true;
  const { stack } = new Error();
  return typeof stack === 'string' && /\n {4}at /.test(stack);
}

/**
 * How the flag check reads the flag (src/current.ts): with `Atomics.load` where the engine may
 * hoist a plain read of shared memory out of a loop: SpiderMonkey does (Firefox), and so may
 * JavaScriptCore (Safari); V8 (Chromium) does not. Any engine but V8 gets the check that is
 * right everywhere, Atomics.load (6 ns a call in V8, where a plain read costs 0.2 ns: npm run
 * bench:browsers).
 */
export const flagRead: 'plain' | 'atomic' | 'atomic-every-nth' = engineIsV8() ? 'plain' : 'atomic';

/** True in a page (a window), false in any worker. */
export const isMainThread: boolean = scope.document !== undefined || scope.WorkerGlobalScope === undefined;

/** The calling thread's id: 0 in the page, its slot number + 1 in a thread this package started, -1 in other workers. */
export const currentThreadId: number = holder?.threadId ?? (isMainThread ? 0 : -1);

/** What the calling thread was started with, as Node's `workerData` (undefined in the page). */
export const startData: unknown = holder?.workerData;

function baseHref(): string {
  const own = scope.location?.href;
  return own === undefined || own.startsWith('blob:') ? (holder?.baseHref ?? own ?? '') : own;
}

/** Resolves a module given as a URL or a path (relative to the page, or to the page that started the thread). */
export function moduleUrl(module: string | URL): URL {
  return module instanceof URL ? module : new URL(module, baseHref());
}

/**
 * A browser cannot look synchronously: false. Asked only about a target whose import failed
 * ({@link loadModule} gave it the code ERR_MODULE_NOT_FOUND when the server answered 404) and its .ts
 * twin, which a browser would not run anyway.
 */
export function moduleFileExists(_href: string): boolean {
  return false;
}

/**
 * This build's own URL: the package's entry where a page loads it from node_modules. Not written
 * as new URL('./index.js', import.meta.url), which a bundler (Vite) would copy as an asset.
 */
export function threadEntry(_from: string): URL {
  return new URL(import.meta.url);
}

/** The entry a thread falls back to when its module does not import the package: only this build unbundled. */
function fallbackEntry(entry: URL): string | undefined {
  // Bundled, import.meta.url is the bundle's chunk, which holds the app as well.
  return /\/dist\/browser\/index\.js$/.test(entry.pathname) ? entry.href : undefined;
}

/**
 * Loads the module `href`: a thread's target, once its entry has evaluated it. A module the
 * server does not have fails as Node's does (`code: 'ERR_MODULE_NOT_FOUND'`): a browser's error
 * says only that the import failed, so the server is asked.
 */
export async function loadModule(href: string): Promise<unknown> {
  // The target imports this package, whose bootstrap asks for the target while it is still
  // being evaluated: wait until the entry's import of it has settled.
  if (holder !== undefined) await holder.loading;
  try {
    return await import(/* @vite-ignore */ href);
  } catch (error) {
    const status = await fetch(href, { method: 'HEAD' }).then(
      (response) => response.status,
      () => undefined,
    );
    if (status === 404 && typeof error === 'object' && error !== null) {
      Object.defineProperty(error, 'code', { value: 'ERR_MODULE_NOT_FOUND', configurable: true, writable: true });
    }
    throw error;
  }
}

/** Never called in the browser build, which is one bundle (src/lazy.ts). */
export function requireSibling(specifier: string): unknown {
  throw new Error(`graceful-threads: cannot load ${specifier} synchronously in a browser`);
}

/** A handle that keeps the thread alive: a browser's worker lives until its target settles. */
export interface KeepAlive {
  ref(): void;
  unref(): void;
  close(): void;
}

/** A {@link KeepAlive} that does nothing: a worker lives until its target settles, and never idles out. */
export function createKeepAlive(_onIdle?: () => void): KeepAlive {
  return { ref() {}, unref() {}, close() {} };
}

/** Milliseconds on a monotonic clock, for durations within one thread. */
export function monotonicMs(): number {
  return performance.now();
}

/** Browsers do not warn about many listeners. */
export function allowManyListeners(_target: EventTarget): void {}

/** Throws on a page's main thread, where `Atomics.wait` is forbidden. */
export function assertCanBlock(): void {
  if (isMainThread) throw cannotBlockHere();
}

/**
 * Throws: a browser's thread blocked in `joinSync()` could neither read the outcome its thread
 * posts (no synchronous read of a port) nor start a thread it just made (a browser starts a
 * worker's workers through the worker's event loop).
 */
export function assertCanJoinSync(): void {
  throw unsupportedInBrowser(
    'thread.joinSync()',
    'A blocked thread can neither start its own threads nor read their outcome there: await thread.join() instead.',
  );
}

/** The private channel a thread reports its outcome on, as its spawner holds it. */
export interface ReportChannel {
  readonly threadEnd: MessagePort;
  takeAll(): unknown[];
  close(): void;
}

/** The last message on a report port: the thread has ended, with this exit code. */
const EXIT_KEY = 'graceful-threads:exit';

/** What a worker's entry posts, before its end, when it could not run the thread. */
const FAILED_KEY = 'graceful-threads:cannot-run';

/** The error a worker's entry could not run its thread for, as it posts it. */
interface EntryFailure {
  /** The target module failed to load (a browser error, as cloned), or it loaded without the package. */
  readonly error?: unknown;
  readonly packageMissing: boolean;
}

interface OpenChannel {
  readonly queue: unknown[];
  onExit: ((exitCode: number) => void) | undefined;
  /** Called with the reason a worker's entry could not run the thread, before its end. */
  onEntryFailure: ((failure: EntryFailure) => void) | undefined;
  /** Called after each message is queued. */
  onQueued: (() => void) | undefined;
}

// Report ports by their thread end, so that startWorker can hear the end on the channel.
const channels = new WeakMap<object, OpenChannel>();

/** Opens a {@link ReportChannel}: its messages are queued as they arrive, in order. */
export function openReportChannel(): ReportChannel {
  const { port1, port2 } = new MessageChannel() as unknown as { port1: MessagePort; port2: MessagePort };
  const open: OpenChannel = { queue: [], onExit: undefined, onEntryFailure: undefined, onQueued: undefined };
  port1.onmessage = ({ data }) => {
    const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    const exit = fields[EXIT_KEY];
    if (typeof exit === 'number') open.onExit?.(exit);
    else if (FAILED_KEY in fields) open.onEntryFailure?.(fields[FAILED_KEY] as EntryFailure);
    else {
      open.queue.push(data);
      open.onQueued?.();
    }
  };
  channels.set(port2, open);
  return {
    threadEnd: port2,
    takeAll: () => open.queue.splice(0),
    close: () => port1.close(),
  };
}

/** What the spawner of a worker hears from it. */
export interface WorkerEvents {
  onError(error: unknown): void;
  onExit(exitCode: number): void;
  targetSettled?(): boolean;
  threadEnded?(): boolean;
}

/** How long a terminated thread whose target had settled gets for its outcome to arrive (a bound: it was posted). */
const LAST_WORDS_MS = 1000;

// The worker's entry: keeps the start data where the package finds it, then imports the target,
// which imports the package. A target that does not import it gets the copy that started it,
// when that is this build unbundled; else, or should that fail to load, the thread ends with
// exit code 1 rather than never, having said why (the error its module failed with, or that it
// does not import the package), which join() rejects with.
const ENTRY = `addEventListener('message', (event) => {
  const start = event.data;
  const holder = { ...start, loading: import(start.moduleHref).then(() => undefined, (error) => error) };
  globalThis[Symbol.for(${JSON.stringify(START_HOLDER.description)})] = holder;
  const fail = (failure) => {
    try {
      start.exitPort.postMessage({ ${JSON.stringify(FAILED_KEY)}: failure });
    } catch {
      start.exitPort.postMessage({ ${JSON.stringify(FAILED_KEY)}: { packageMissing: false, error: String(failure.error) } });
    }
    start.exitPort.postMessage({ ${JSON.stringify(EXIT_KEY)}: 1 });
    close();
  };
  holder.loading.then((loadError) => {
    if (holder.runtimeLoaded) return;
    if (start.libraryHref === undefined) return fail(loadError === undefined ? { packageMissing: true } : { packageMissing: false, error: loadError });
    return import(start.libraryHref).catch((error) => fail({ packageMissing: false, error }));
  });
}, { once: true });
`;

let entryUrl: string | undefined;

/** The start data of one thread, as the package's thread module writes it under its key. */
function describedStart(workerData: unknown): { readonly moduleHref: string; readonly slot: number } {
  for (const value of Object.values(workerData as object)) {
    const { moduleHref, slot } = value as { moduleHref?: unknown; slot?: unknown };
    if (typeof moduleHref === 'string' && typeof slot === 'number') return { moduleHref, slot };
  }
  throw new TypeError('graceful-threads: a thread was started without its start data');
}

/** Starts `entry`'s package in a new module Web Worker, running the target its start data names. */
export function startWorker(entry: URL, options: WorkerOptions, events: WorkerEvents): Worker {
  const WorkerClass = scope.Worker;
  if (WorkerClass === undefined) {
    throw unsupportedInBrowser(
      'Starting a thread from this context (a service worker or a worklet has no Worker)',
      'Start threads from a page or a dedicated worker.',
    );
  }
  const transfer = options.transferList ?? [];
  const report = transfer.map((port) => channels.get(port as object)).find((open) => open !== undefined);
  if (report === undefined) throw new TypeError('graceful-threads: a thread was started without its report port');
  const { moduleHref, slot } = describedStart(options.workerData);
  entryUrl ??= URL.createObjectURL(new Blob([ENTRY], { type: 'text/javascript' }));
  const webWorker = new WorkerClass(entryUrl, {
    type: 'module',
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  const threadId = slot + 1;
  let exited = false;
  let heardEnd: (() => void) | undefined;
  const exit = (exitCode: number): void => {
    if (exited) return;
    exited = true;
    report.onExit = undefined;
    report.onEntryFailure = undefined;
    webWorker.terminate();
    events.onExit(exitCode);
    heardEnd?.();
  };
  report.onExit = exit;
  report.onEntryFailure = ({ error, packageMissing }) => {
    events.onError(
      packageMissing ? packageNotImported(moduleHref) : (error ?? new Error(`the module ${moduleHref} failed to load`)),
    );
  };
  webWorker.addEventListener('error', (event) => {
    // An uncaught error the worker did not handle (an ErrorEvent): its crash report and end
    // follow on the port. A plain Event: the worker could not load its entry, and will never
    // post anything; without this its join() would wait for ever.
    event.preventDefault();
    if (typeof event.message === 'string' || exited) return;
    events.onError(workerNotStarted(options.name ?? 'a thread'));
    exit(1);
  });
  const start = {
    workerData: options.workerData,
    threadId,
    baseHref: baseHref(),
    exitPort: transfer.find((port) => channels.has(port as object)),
    moduleHref,
    libraryHref: fallbackEntry(entry),
  };
  // Throws a DataCloneError for args that cannot be cloned, as `new Worker` does in Node.
  try {
    webWorker.postMessage(start, transfer);
  } catch (error) {
    webWorker.terminate();
    throw error;
  }
  return {
    threadId,
    webWorker,
    terminate: async () => {
      webWorker.terminate();
      // A thread that has said its end in shared memory (a shutdown terminates such threads)
      // posted its outcome or the error it died of before that, and its end marker last, on the
      // same port: wait for the marker, which comes after them (a bound: it was posted).
      if (!exited && events.threadEnded?.() === true) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, LAST_WORDS_MS);
          heardEnd = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        heardEnd = undefined;
      }
      // A thread whose target settled posted its outcome first, which may not have arrived yet
      // (a Node worker's 'exit' comes after its messages; a Web Worker says nothing of its end).
      if (!exited && report.queue.length === 0 && events.targetSettled?.() === true) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, LAST_WORDS_MS);
          report.onQueued = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        report.onQueued = undefined;
      }
      exit(1);
      return 1;
    },
  };
}

/** The browser and its version, for messages. */
export const runtimeName: string = (() => {
  const agent = scope.navigator?.userAgent ?? 'a browser';
  return /(?:Firefox|Chrome|Version)\/[\d.]+/.exec(agent)?.[0] ?? agent;
})();

const endListeners: ((exitCode: number) => void)[] = [];
let ended = false;

/** Calls `listener` as the calling thread ends ({@link endThread}), with its exit code. */
export function onThreadEnd(listener: (exitCode: number) => void): void {
  endListeners.push(listener);
}

/**
 * Ends the calling thread, one this package started: runs the {@link onThreadEnd} listeners,
 * says the end last on its report port and closes the worker. A Web Worker does not end when
 * it runs out of work, as a Node thread does: it ends when its target settles, and what it
 * left scheduled (timers, listeners) does not run. Threads it started and did not join run to
 * their end first, as a Node thread's workers keep it alive (closing the worker would end them,
 * or never start one it started last); a fatal error ends them with it, as in Node.
 */
export function endThread(exitCode: number): void {
  if (holder === undefined || ended) return;
  ended = true;
  if (exitCode === 0 && runningThreads.size > 0) void childrenEnded().then(() => finishThread(exitCode));
  else finishThread(exitCode);
}

async function childrenEnded(): Promise<void> {
  // Until none is left: one ending may start another (a join() callback of the target's).
  while (runningThreads.size > 0) await Promise.all([...runningThreads].map((thread) => thread.exited));
}

function finishThread(exitCode: number): void {
  for (const listener of endListeners) listener(exitCode);
  holder?.exitPort.postMessage({ [EXIT_KEY]: exitCode });
  scope.close?.();
}

/**
 * Calls `listener` with an uncaught error or unhandled rejection that no listener of the
 * user's handled (`preventDefault()`), then ends the thread with exit code 1, as Node does.
 */
export function onFatalError(listener: (error: unknown) => void): void {
  const fatal = (event: { readonly defaultPrevented: boolean }, error: unknown): void => {
    // After every other listener of this event has run.
    setTimeout(() => {
      if (event.defaultPrevented) return;
      listener(error);
      endThread(1);
    });
  };
  scope.addEventListener?.('error', (event: { readonly defaultPrevented: boolean; readonly error: unknown }) =>
    fatal(event, event.error),
  );
  scope.addEventListener?.(
    'unhandledrejection',
    (event: { readonly defaultPrevented: boolean; readonly reason: unknown }) => fatal(event, event.reason),
  );
}

/** A browser's shutdown does not exit a process: nothing to do. */
export function exitThreadNow(): void {}

/** A worker's output goes straight to the console: nothing to watch. */
export function watchOutput(): void {}

/** A worker's output goes straight to the console: nothing is ever in flight. */
export function outputInFlight(): boolean {
  return false;
}
