/**
 * The one module that imports `node:` APIs. The in-thread core needs only what it finds here
 * (thread identity, the data a thread was started with, a structured-clone codec), so porting to
 * Deno, Bun or Web Workers means writing another adapter with the same exports.
 */

import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  threadId,
  Worker,
  type WorkerOptions,
  workerData,
} from 'node:worker_threads';

export { isMainThread, type MessagePort, type Worker, type WorkerOptions };

/** Node's id of the calling thread (0 in the main thread). */
export const currentThreadId: number = threadId;

/** The `workerData` the calling thread was started with (undefined in the main thread). */
export const startData: unknown = workerData;

/** Structured-clones `value` into bytes; throws a `DataCloneError` for what cannot be cloned. */
export function encodeValue(value: unknown): Uint8Array {
  return serialize(value);
}

/** Reverses {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** Resolves a module given as a path (absolute, or relative to the working directory) or URL. */
export function moduleUrl(module: string | URL): URL {
  if (module instanceof URL) return module;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return new URL(module);
  return pathToFileURL(resolvePath(module));
}

/** False when `href` is a file URL whose file does not exist. */
export function moduleFileExists(href: string): boolean {
  return !href.startsWith('file:') || existsSync(fileURLToPath(href));
}

/** A handle that keeps the thread's event loop alive while it has more `ref()`s than `unref()`s. */
export interface KeepAlive {
  ref(): void;
  unref(): void;
  close(): void;
}

/** Creates an unreferenced {@link KeepAlive}. */
export function createKeepAlive(): KeepAlive {
  const timer = setInterval(() => {}, 2 ** 31 - 1);
  timer.unref();
  // Counted: two waiters may overlap, and the first to finish must not release the other.
  let refs = 0;
  return {
    ref: () => {
      if (refs++ === 0) timer.ref();
    },
    unref: () => {
      if (--refs === 0) timer.unref();
    },
    close: () => clearInterval(timer),
  };
}

/** The private channel a thread reports its outcome on, as its spawner holds it. */
export interface ReportChannel {
  /** The end to hand to the thread (in its start data and transfer list). */
  readonly threadEnd: MessagePort;
  /** The last message the thread posted, read synchronously; undefined if none. */
  takeLast(): unknown;
  close(): void;
}

/** Opens a {@link ReportChannel}; it keeps no event loop alive. */
export function openReportChannel(): ReportChannel {
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  return {
    threadEnd: port2,
    takeLast() {
      // Read synchronously: the message was queued before the thread ended, but its delivery
      // event and the worker's 'exit' may come in either order.
      let last: unknown;
      for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) last = m.message;
      return last;
    },
    close: () => port1.close(),
  };
}

/** What the spawner of a worker hears from it. */
export interface WorkerEvents {
  /** An uncaught error in the worker. */
  onError(error: unknown): void;
  /** The worker has stopped. */
  onExit(exitCode: number): void;
}

/** Starts `entry` in a new worker thread; throws what `new Worker` throws (a `DataCloneError`…). */
export function startWorker(entry: URL, options: WorkerOptions, events: WorkerEvents): Worker {
  const worker = new Worker(entry, options);
  worker.on('error', events.onError);
  worker.once('exit', events.onExit);
  return worker;
}

/** The runtime and its version, for messages. */
export const runtimeName = `Node.js ${process.version}`;
