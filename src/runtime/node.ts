/**
 * The one module, with the structured-clone codec (./node-codec.ts), that imports `node:` APIs.
 * The in-thread core needs only what it finds in these two (thread identity, the data a thread
 * was started with, the codec), so porting to Deno, Bun or Web Workers means writing another
 * adapter with the same exports. The codec is a module of its own so that only the package's
 * lazily loaded half (src/lazy.ts) contains it.
 */

import type { MessagePort, Worker as NodeWorker, WorkerOptions } from 'node:worker_threads';
import type { ReportChannel as Channel, KeepAlive, WorkerEvents } from './contract.js';
import { calledByProcessExit, uncaughtIsCaptured } from './node-process.js';

export type { KeepAlive, MessagePort, WorkerEvents, WorkerOptions };
export type Worker = NodeWorker;
/** The private channel a thread reports its outcome on, as its spawner holds it. */
export type ReportChannel = Channel<MessagePort>;

// Node's modules are fetched with process.getBuiltinModule, not imported: every thread loads this
// module, and each `import ... from 'node:...'` makes the module loader build an ES module facade
// of that builtin in the thread (node:path and node:url: 40-50 KB of young-generation memory per
// thread), and importing node:fs or node:events costs each thread's start 0.2-0.8 ms (Node 26).
// Rarely needed modules are fetched on first use.
const builtin = process.getBuiltinModule;
const { isMainThread, MessageChannel, receiveMessageOnPort, threadId, Worker, workerData } =
  builtin('node:worker_threads');

export { isMainThread };

/** Node's id of the calling thread (0 in the main thread). */
export const currentThreadId: number = threadId;

/** The `workerData` the calling thread was started with (undefined in the main thread). */
export const startData: unknown = workerData;

/** Resolves a module given as a path (absolute, or relative to the working directory) or URL. */
export function moduleUrl(module: string | URL): URL {
  if (module instanceof URL) return module;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return new URL(module);
  return builtin('node:url').pathToFileURL(builtin('node:path').resolve(module));
}

/** False when `href` is a file URL whose file does not exist. */
export function moduleFileExists(href: string): boolean {
  return !href.startsWith('file:') || builtin('node:fs').existsSync(builtin('node:url').fileURLToPath(href));
}

/**
 * Loads the ES module `specifier` (relative to this module) synchronously, through `require()`
 * of an ES module (unflagged on Node 20.19+ and 22.12+): in dist/, the package's lazily loaded
 * half (src/lazy.ts).
 */
export function requireSibling(specifier: string): unknown {
  return builtin('node:module').createRequire(import.meta.url)(specifier);
}

/**
 * The package's entry, which each thread loads first, given the URL of the module asking (the
 * package's thread module, in dist/ as in src/): its index.js.
 */
export function threadEntry(from: string): URL {
  return new URL('./index.js', from);
}

/**
 * Loads the module `href` (a thread's target), and resolves one turn of the event loop later: what
 * Node still does in the thread's first turn (its module loader's own bookkeeping, Node 24 and
 * 26) then runs before the target, not behind a target that blocks from its first instruction,
 * between its interrupt and its end (that thread's end came 120-250 us later on Node 26).
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const loadModule = (async function (href: string): Promise<unknown> {
  const namespace = await import(href);
  await new Promise((resolve) => setImmediate(resolve));
  return namespace;
});

/**
 * Milliseconds on a monotonic clock, for durations within one thread. Not `performance.now()`:
 * the first read of `performance` loads node:perf_hooks (0.5-1 ms, measured on Node 26), which
 * a shutdown would pay between the signal and its first interrupt.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** Blocking waits are allowed in every Node thread (a browser page's main thread forbids them). */
export function assertCanBlock(): void {}

/** `joinSync()` works in every Node thread (a browser's cannot read a thread's outcome while it blocks). */
export function assertCanJoinSync(): void {}

/**
 * Ends the calling thread at once, as `process.exit()` does in a worker: its `'exit'` listeners
 * run, what its event loop still holds does not. Not on Bun and Deno, where a worker's
 * `process.exit()` is not known to end only the worker: there it does nothing.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const exitThreadNow = (function (): void {
  if (bunVersion === undefined && denoVersion === undefined && !isMainThread) process.exit();
});

/** Node ends a thread on its own once its event loop empties: nothing to do (a browser's worker needs it). */
// Parenthesized, so V8 compiles it with the module: every thread calls it on its way out, where
// compiling even this empty function cost 30-45 us (measured on Node 24 and 26).
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const endThread = (function (_exitCode: number): void {});

/**
 * Creates an unreferenced {@link KeepAlive}. Until it is closed, `onIdle` runs each time the
 * thread's event loop has emptied (Node's `'beforeExit'`, which `process.exit()` skips): the
 * thread ends next unless something schedules more work. In a Deno worker, which emits no
 * `'beforeExit'`, it runs once, from the `'exit'` of that natural end: nothing runs after it.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const createKeepAlive = (function (onIdle?: () => void): KeepAlive {
  // The timer is made on the first ref(). Most threads never make it, and one that ends on an
  // interrupt then clears no timer on its way out (≈35 µs less between the interrupt and the
  // thread's exit).
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  // Left listening once closed (it then does nothing): every thread closes its keep-alive on its
  // way out, where removing a process listener cost 15-35 us ('removeListener' emitted, Node's
  // signal bookkeeping). Parenthesized: compiled now, not as the loop empties on the way out.
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  const idle = onIdle === undefined ? undefined : (function idleListener(): void {
    if (!closed) onIdle();
  });
  // Deno emits no 'beforeExit' in a worker (docs/upstream/deno-worker-before-exit.mjs). It emits
  // 'exit' when the worker's event loop has emptied, as when process.exit() is called (whose
  // frame is on the stack) or an uncaught error ends it ('uncaughtExceptionMonitor' came first).
  // Left listening once closed, as idle is (idle then does nothing).
  let fatal = false;
  const naturalExit =
    idle === undefined || denoVersion === undefined || isMainThread
      ? undefined
      : () => {
          if (!fatal && !calledByProcessExit()) idle();
        };
  if (idle !== undefined) process.on('beforeExit', idle);
  if (naturalExit !== undefined) {
    onFatalError(() => {
      fatal = true;
    });
    process.on('exit', naturalExit);
  }
  // Counted: two waiters may overlap, and the first to finish must not release the other.
  let refs = 0;
  return {
    ref: () => {
      if (refs++ !== 0 || closed) return;
      timer ??= setInterval(() => {}, 2 ** 31 - 1);
      timer.ref();
    },
    unref: () => {
      if (--refs === 0) timer?.unref();
    },
    // Parenthesized, so V8 compiles it with the rest: every thread calls it on its way out. A
    // function expression: Node 20's V8 compiles a parenthesized arrow on its first call.
    // biome-ignore format: the parentheses are V8's eager-compilation hint
    close: (function close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    }),
  };
});

/** Lets any number of listeners wait on `target` without a `MaxListenersExceededWarning`. */
export function allowManyListeners(target: EventTarget): void {
  builtin('node:events').setMaxListeners(0, target);
}

/** Opens a {@link ReportChannel}; it keeps no event loop alive. */
export function openReportChannel(): ReportChannel {
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  return {
    threadEnd: port2,
    takeAll() {
      // Read synchronously: the messages were queued before the thread ended, but their
      // delivery events and the worker's 'exit' may come in either order.
      const messages: unknown[] = [];
      for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1))
        messages.push(m.message);
      return messages;
    },
    close: () => port1.close(),
  };
}

/** Starts `entry` in a new worker thread; throws what `new Worker` throws (a `DataCloneError`…). */
export function startWorker(entry: URL, options: WorkerOptions, events: WorkerEvents): Worker {
  const worker = new Worker(entry, options);
  worker.on('error', events.onError);
  // Parenthesized: compiled with startWorker, as the first thread starts, not as the first
  // thread's end reaches this thread (where a shutdown that exits the process next waits).
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  worker.once('exit', (function workerExited(exitCode: number): void {
    // Node may keep an exited worker reachable (Node 26 does): its listeners must not keep the
    // thread's handle alive, which reports a failure nobody joined when it is collected.
    worker.off('error', events.onError);
    events.onExit(exitCode);
  }));
  return worker;
}

// Bun and Deno run this adapter too: both implement node:worker_threads and process.getBuiltinModule.
const bunVersion: string | undefined = process.versions.bun;
const denoVersion: string | undefined = (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno;

/** The runtime and its version, for messages. */
export const runtimeName =
  bunVersion !== undefined
    ? `Bun ${bunVersion}`
    : denoVersion !== undefined
      ? `Deno ${denoVersion}`
      : `Node.js ${process.version}`;

/**
 * How the flag check reads the flag (src/current.ts): `'plain'` where the engine's optimizing
 * compiler keeps a plain typed-array read inside the loop that makes it (V8: Node, Deno; see
 * src/current.ts for why), `'atomic-every-nth'` where it hoists the read out of the loop
 * (JavaScriptCore: Bun), so a loop polling plain reads would never see the flag: there every
 * 1024th call also makes an `Atomics.load`. (`'atomic'`, an `Atomics.load` each call, is the
 * browser adapter's choice for SpiderMonkey.)
 */
export const flagRead: 'plain' | 'atomic' | 'atomic-every-nth' =
  bunVersion === undefined ? 'plain' : 'atomic-every-nth';

/**
 * Calls `listener` as the calling thread ends: normally, by `process.exit()` or of an uncaught
 * error, with its exit code; not when terminated from outside, nor when it runs out of memory
 * past its `resourceLimits`. It runs after every other `'exit'` listener added before the tick in
 * which the thread ends.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const onThreadEnd = (function (listener: (exitCode: number) => void): void {
  // Parenthesized, so that V8 compiles it with onThreadEnd, as the thread starts, rather than on
  // its first call, between an interrupt and join() settling.
  // biome-ignore format: the parentheses are V8's eager-compilation hint (a function expression's is on Node 20 too)
  // biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
  const last = (function (exitCode: number): void {
    listener(exitCode);
  });
  process.on('exit', last);
  let moving = false;
  // Parenthesized: the thread runs it as it starts, as it adds its next process listener.
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  process.on('newListener', (function exitListenerAdded(event: string | symbol): void {
    if (event !== 'exit' || moving) return;
    // The new listener is added after this call returns: move ours behind it once it is.
    queueMicrotask(() => {
      moving = true;
      process.off('exit', last);
      process.on('exit', last);
      moving = false;
    });
  }));
});

/**
 * Calls `listener` with an uncaught error (or an unhandled rejection raised as one) that is about
 * to end the thread: none when an `'uncaughtException'` listener of the user's handles it, or the
 * capture callback of `process.setUncaughtExceptionCaptureCallback()` (the `domain` module's).
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const onFatalError = (function (listener: (error: unknown) => void): void {
  process.on('uncaughtExceptionMonitor', (error) => {
    if (process.listenerCount('uncaughtException') === 0 && !uncaughtIsCaptured()) listener(error);
  });
});

/** Whether the thread has written to `process.stdout` or `process.stderr` (see {@link watchOutput}). */
let outputWritten = true;

/**
 * Notes, from now on, whether the calling thread writes to its `process.stdout` or
 * `process.stderr` (`console.log` does). Node makes a worker's stdio streams on the first read of
 * either, and {@link outputInFlight} need not make them to learn that nothing was written: 70-90 us
 * on the way out of a thread that never printed and ends before its event loop's last turn,
 * measured on Node 26. A read alone is not a write: Node's own handler of the message its parent
 * sends as it starts reading the thread's output reads both streams, in every thread, and a
 * thread blocked from its start handles it only on its way out. A shutdown that counted that as
 * output waited for every such thread's worker to be torn down (8 threads: 3-14 ms, Node 26).
 * Called first by a thread this library started.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const watchOutput = (function (): void {
  let watched = 0;
  for (const name of ['stdout', 'stderr'] as const) {
    const own = Object.getOwnPropertyDescriptor(process, name);
    const get = own?.get;
    if (own === undefined || get === undefined || own.configurable !== true) continue;
    Object.defineProperty(process, name, {
      ...own,
      // Parenthesized, so V8 compiles it with watchOutput, as the thread starts: Node reads
      // process.stdout on the way out of a thread that never printed (for the message its parent
      // sent as it started), and compiling it there cost 20 us (measured on Node 26).
      // biome-ignore format: the parentheses are V8's eager-compilation hint
      get: (function outputGetter(this: unknown) {
        // Node's getter from now on (it returns the same stream each time).
        Object.defineProperty(process, name, own);
        const stream: unknown = get.call(this);
        if (!noteWrites(stream)) outputWritten = true;
        return stream;
      }),
    });
    watched++;
  }
  // Where the streams are plain properties (or the watch failed), they count as written to.
  if (watched === 2) outputWritten = false;
});

/**
 * Sets {@link outputWritten} on the first chunk `stream` takes. Every write of a Node `Writable`
 * (`write()`, `end(chunk)`, a pipe) reaches its `_write` or `_writev`, whose default calls
 * `_writev`. Returns false for a stream without them (not a Node stream: counted as written).
 * Parenthesized, so V8 compiles it with the module: most threads first call it on their way out.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const noteWrites = (function (stream: unknown): boolean {
  const writable = stream as Record<'_write' | '_writev', unknown> | null;
  if (typeof writable !== 'object' || writable === null) return false;
  let wrapped = 0;
  for (const key of ['_write', '_writev'] as const) {
    const original = writable[key];
    if (typeof original !== 'function') continue;
    writable[key] = function (this: unknown, ...args: unknown[]): unknown {
      outputWritten = true;
      return original.apply(this, args);
    };
    wrapped++;
  }
  return wrapped > 0;
});

/** Whether the calling thread has written to its stdout or stderr since {@link watchOutput} (true if unknown). */
export function outputWasWritten(): boolean {
  return outputWritten;
}

/**
 * Whether what the calling thread wrote to its stdout or stderr is still on its way: a worker's
 * output goes to its parent, and the thread cannot exit until the parent has read it.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const outputInFlight = (function (): boolean {
  // Parenthesized, so V8 compiles it with the module: every thread calls it on its way out, and
  // a function compiled on its first call costs 50-100 us there (measured on Node 26).
  return outputWritten && (process.stdout.writableLength > 0 || process.stderr.writableLength > 0);
});
