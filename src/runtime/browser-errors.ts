/**
 * The errors of the browser runtime adapter: what a browser cannot do, said with a code and
 * what to do instead. Its own module so that every browser adapter module shares them.
 */
import { type CodedError, codedError } from '../coded-errors.js';

/** The headers a page (and every script it loads as a worker) must be served with. */
export const ISOLATION_HEADERS =
  'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';

/** Thrown as the package loads in a page or worker that is not cross-origin isolated. */
export function isolationRequired(): CodedError<Error> {
  return codedError(
    Error,
    'ERR_CROSS_ORIGIN_ISOLATION_REQUIRED',
    `graceful-threads needs SharedArrayBuffer, which a browser gives only to a cross-origin isolated page (self.crossOriginIsolated is false here). Serve the page with the headers ${ISOLATION_HEADERS} (or credentialless), and serve the scripts it loads from the same origin or with Cross-Origin-Resource-Policy.`,
  );
}

/** Thrown by a blocking wait (`sleep()`, `lock.acquire()`...) on a page's main thread. */
export function cannotBlockHere(): CodedError<Error> {
  return codedError(
    Error,
    'ERR_BLOCKING_WAIT_ON_MAIN_THREAD',
    "A page's main thread cannot block (browsers forbid Atomics.wait there): call the awaitable form instead (await sleepAsync(ms), await lock.acquireAsync(), await event.waitAsync()...), or block inside a worker.",
  );
}

/** Thrown by a feature the browser runtime does not have. */
export function unsupportedInBrowser(feature: string, instead: string): CodedError<Error> {
  return codedError(Error, 'ERR_UNSUPPORTED_IN_BROWSER', `${feature} is not available in browsers. ${instead}`);
}

/** The error a thread whose Web Worker could not load its entry fails with (`exitCode` 1). */
export function workerNotStarted(name: string): CodedError<Error> & { readonly exitCode: number } {
  const error = codedError(
    Error,
    'ERR_THREAD_EXITED',
    `The Web Worker of thread "${name}" could not start: the browser refused to load its entry, a module from a blob: URL. A Content-Security-Policy must allow it (worker-src blob:, or script-src blob: without worker-src).`,
  );
  return Object.assign(error, { exitCode: 1 });
}

/** The error a thread fails with whose module, bundled, does not import the package (`exitCode` 1). */
export function packageNotImported(moduleHref: string): CodedError<Error> & { readonly exitCode: number } {
  const error = codedError(
    Error,
    'ERR_THREAD_EXITED',
    `The thread's module ${moduleHref} does not import graceful-threads, so nothing in its worker can run its target: a bundled thread module must import the package (build it as an entry of its own that does).`,
  );
  return Object.assign(error, { exitCode: 1 });
}
