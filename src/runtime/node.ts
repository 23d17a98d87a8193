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

/** Loads the module `href` (a thread's target). */
export function loadModule(href: string): Promise<unknown> {
  return import(href);
}

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
export const exitThreadNow = (function exitThreadNow(): void {
  if (bunVersion === undefined && denoVersion === undefined && !isMainThread) process.exit();
});

/** Node ends a thread on its own once its event loop empties: nothing to do (a browser's worker needs it). */
export function endThread(_exitCode: number): void {}

/**
 * Creates an unreferenced {@link KeepAlive}. Until it is closed, `onIdle` runs each time the
 * thread's event loop has emptied (Node's `'beforeExit'`, which `process.exit()` skips): the
 * thread ends next unless something schedules more work. In a Deno worker, which emits no
 * `'beforeExit'`, it runs once, from the `'exit'` of that natural end: nothing runs after it.
 */
export function createKeepAlive(onIdle?: () => void): KeepAlive {
  // The timer is made on the first ref(). Most threads never make it, and one that ends on an
  // interrupt then clears no timer on its way out (≈35 µs less between the interrupt and the
  // thread's exit).
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const idle = onIdle === undefined ? undefined : () => onIdle();
  // Deno emits no 'beforeExit' in a worker (docs/upstream/deno-worker-before-exit.mjs). It emits
  // 'exit' when the worker's event loop has emptied, as when process.exit() is called (whose
  // frame is on the stack) or an uncaught error ends it ('uncaughtExceptionMonitor' came first).
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
      if (idle !== undefined) process.off('beforeExit', idle);
      if (naturalExit !== undefined) process.off('exit', naturalExit);
    }),
  };
}

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
  worker.once('exit', (exitCode: number) => {
    // Node may keep an exited worker reachable (Node 26 does): its listeners must not keep the
    // thread's handle alive, which reports a failure nobody joined when it is collected.
    worker.off('error', events.onError);
    events.onExit(exitCode);
  });
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
export function onThreadEnd(listener: (exitCode: number) => void): void {
  // Parenthesized, so that V8 compiles it with onThreadEnd, as the thread starts, rather than on
  // its first call, between an interrupt and join() settling.
  // biome-ignore format: the parentheses are V8's eager-compilation hint (a function expression's is on Node 20 too)
  const last = (function last(exitCode: number): void {
    listener(exitCode);
  });
  process.on('exit', last);
  let moving = false;
  process.on('newListener', (event) => {
    if (event !== 'exit' || moving) return;
    // The new listener is added after this call returns: move ours behind it once it is.
    queueMicrotask(() => {
      moving = true;
      process.off('exit', last);
      process.on('exit', last);
      moving = false;
    });
  });
}

/**
 * Calls `listener` with an uncaught error (or an unhandled rejection raised as one) that is about
 * to end the thread: none when an `'uncaughtException'` listener of the user's handles it, or the
 * capture callback of `process.setUncaughtExceptionCaptureCallback()` (the `domain` module's).
 */
export function onFatalError(listener: (error: unknown) => void): void {
  process.on('uncaughtExceptionMonitor', (error) => {
    if (process.listenerCount('uncaughtException') === 0 && !uncaughtIsCaptured()) listener(error);
  });
}

/** Whether the thread has read `process.stdout` or `process.stderr` (see {@link watchOutput}). */
let outputUsed = true;

/**
 * Notes, from now on, whether the calling thread reads its `process.stdout` or `process.stderr`
 * (`console.log` does). Node makes a worker's stdio streams on the first read of either, and
 * {@link outputInFlight} need not make them to learn that nothing was written: 70-90 us on the
 * way out of a thread that never printed and ends before its event loop's last turn (which makes
 * them, for a message its parent sent as it started), measured on Node 26. Called first by a
 * thread this library started.
 */
export function watchOutput(): void {
  let watched = 0;
  for (const name of ['stdout', 'stderr'] as const) {
    const own = Object.getOwnPropertyDescriptor(process, name);
    const get = own?.get;
    if (own === undefined || get === undefined || own.configurable !== true) continue;
    Object.defineProperty(process, name, {
      ...own,
      get() {
        outputUsed = true;
        // Node's getter from now on (it returns the same stream each time).
        Object.defineProperty(process, name, own);
        return get.call(this);
      },
    });
    watched++;
  }
  // Where the streams are plain properties (or the watch failed), they are asked every time.
  if (watched === 2) outputUsed = false;
}

/** Whether the calling thread has used its stdout or stderr since {@link watchOutput} (true if unknown). */
export function outputWasUsed(): boolean {
  return outputUsed;
}

/**
 * Whether what the calling thread wrote to its stdout or stderr is still on its way: a worker's
 * output goes to its parent, and the thread cannot exit until the parent has read it.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint
export const outputInFlight = (function outputInFlight(): boolean {
  // Parenthesized, so V8 compiles it with the module: every thread calls it on its way out, and
  // a function compiled on its first call costs 50-100 us there (measured on Node 26).
  return outputUsed && (process.stdout.writableLength > 0 || process.stderr.writableLength > 0);
});
