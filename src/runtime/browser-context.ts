/**
 * Where this copy of the package runs in a browser, shared by the modules of the browser build's
 * runtime: the global scope, what a worker's entry left for the package (the start holder), and
 * the keys of the messages a thread's report port carries besides its outcome.
 */

import { isolationRequired } from './browser-errors.js';

/** A browser's `MessagePort`, as much of it as the package uses. */
export interface MessagePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  close(): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
}

/** The browser's `Worker`, as much of it as the package uses. */
export interface WebWorker {
  postMessage(message: unknown, transfer: readonly unknown[]): void;
  terminate(): void;
  addEventListener(
    type: 'error',
    listener: (event: { preventDefault(): void; readonly message?: unknown }) => void,
  ): void;
}

/** What a worker's entry keeps on {@link START_HOLDER} for the package to find. */
export interface StartHolder {
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

/** The global scope of a page or a worker, as much of it as the package uses. */
export interface BrowserGlobal {
  readonly crossOriginIsolated?: boolean;
  readonly location?: { readonly href: string };
  readonly navigator?: { readonly userAgent?: string; readonly hardwareConcurrency?: number };
  readonly Worker?: new (url: string, options: { type: 'module'; name?: string }) => WebWorker;
  readonly WorkerGlobalScope?: unknown;
  readonly document?: unknown;
  addEventListener?(type: string, listener: (event: never) => void): void;
  close?(): void;
}

export const scope = globalThis as unknown as BrowserGlobal;

// SharedArrayBuffer is gone, or unusable across threads, in a page that is not cross-origin
// isolated: say so, with the headers to send, before anything fails on it.
if (typeof SharedArrayBuffer !== 'function' || scope.crossOriginIsolated === false) throw isolationRequired();

/** Where a worker's entry keeps its start data, for the package to find. */
export const START_HOLDER: unique symbol = Symbol.for('graceful-threads.browser-start.v1') as never;
/** What this thread's entry kept, in a thread this package started. */
export const holder = (globalThis as unknown as { [START_HOLDER]?: StartHolder })[START_HOLDER];
if (holder !== undefined) holder.runtimeLoaded = true;

/** The URL relative module paths resolve against: the page's, or in a thread, its starter's. */
export function baseHref(): string {
  const own = scope.location?.href;
  return own === undefined || own.startsWith('blob:') ? (holder?.baseHref ?? own ?? '') : own;
}

/** The last message on a report port: the thread has ended, with this exit code. */
export const EXIT_KEY = 'graceful-threads:exit';

/** What a worker's entry posts, before its end, when it could not run the thread. */
export const FAILED_KEY = 'graceful-threads:cannot-run';
