/**
 * The browser's side of ./node.ts, with the same exports: threads are module Web Workers. The
 * package's browser build (dist/browser/, scripts/build.mjs) puts this module, and the other
 * `browser-*.ts` modules of this folder, in place of their `node*.ts` counterparts.
 *
 * A Web Worker differs from a Node worker thread in what the rest of the package leans on, and
 * these modules make up for it:
 * - It gets no start data before its first line runs: the spawner posts it, and the worker's
 *   entry (a small module loaded from a blob: URL) keeps it on a registered global symbol
 *   before it imports the target, which imports the package, which finds it there
 *   (./browser-worker.ts starts it, ./browser-context.ts finds what it kept).
 * - It never ends on its own (no event loop that empties) and its spawner hears no `'exit'`:
 *   the thread ends when its target settles (./browser-thread-end.ts), posting a last message
 *   on its report port so that the spawner, which reads that port, sees the outcome before the end.
 * - It has no synchronous read of a port: messages are queued as they arrive (./browser-worker.ts).
 * - A page's main thread cannot block: `Atomics.wait` throws there ({@link assertCanBlock}).
 *
 * This module itself says where the package runs: the engine, the thread, module URLs.
 */

import { baseHref, holder, scope } from './browser-context.js';
import { cannotBlockHere, unsupportedInBrowser } from './browser-errors.js';
import type { KeepAlive } from './contract.js';

export type { MessagePort } from './browser-context.js';
export {
  endThread,
  exitThreadNow,
  onFatalError,
  onThreadEnd,
  outputInFlight,
  outputWasWritten,
  watchOutput,
} from './browser-thread-end.js';
export {
  openReportChannel,
  type ReportChannel,
  startWorker,
  type Worker,
  type WorkerEvents,
  type WorkerOptions,
} from './browser-worker.js';
export type { KeepAlive } from './contract.js';

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

/** The browser and its version, for messages. */
export const runtimeName: string = (() => {
  const agent = scope.navigator?.userAgent ?? 'a browser';
  return /(?:Firefox|Chrome|Version)\/[\d.]+/.exec(agent)?.[0] ?? agent;
})();
