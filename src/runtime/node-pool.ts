/**
 * What a `ThreadPool` needs of the platform on its side: an event emitter to extend, the number
 * of CPUs for its default size, and the channel it sends tasks to a worker on.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Transferable } from 'node:worker_threads';

// Fetched rather than imported: dist/heavy.js holds the pool, and every thread that loads it
// would pay for importing node:events and node:os as ES modules (the CommonJS ones Node holds already).
const builtin = process.getBuiltinModule;

/** Node's `EventEmitter`, the base of `ThreadPool` (as of piscina's pool). */
export const EventEmitter: typeof import('node:events').EventEmitter = builtin('node:events').EventEmitter;

/**
 * The next message queued on `port`, taken now (undefined when none), bypassing the event loop:
 * how a pool's worker goes from one task to the next without a turn of its loop.
 */
export function receiveNow(port: MessagePort): { readonly message: unknown } | undefined {
  return receiveMessageOnPort(port);
}

/** How many threads can usefully run at once here: a pool's default size. */
export function availableParallelism(): number {
  return builtin('node:os').availableParallelism();
}

/** The pool's end of a channel to one worker. */
export interface TaskChannel {
  /** The end to hand to the worker (in its start data and transfer list). */
  readonly threadEnd: MessagePort;
  /** Posts to the worker; throws what `postMessage` throws (a `DataCloneError`...). */
  post(message: unknown, transferList?: readonly Transferable[]): void;
  /** What the worker posted and nobody has read yet, read synchronously. */
  takeAll(): unknown[];
  /** Whether the channel keeps the pool's thread alive: while its worker has a task. */
  ref(): void;
  unref(): void;
  close(): void;
}

/** Opens a {@link TaskChannel}; `onMessage` gets what the worker posts. Unreferenced at first. */
export function openTaskChannel(onMessage: (message: unknown) => void): TaskChannel {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', onMessage);
  port1.unref();
  return {
    threadEnd: port2,
    post: (message, transferList) => port1.postMessage(message, transferList as Transferable[]),
    takeAll() {
      const messages: unknown[] = [];
      for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1))
        messages.push(m.message);
      return messages;
    },
    ref: () => port1.ref(),
    unref: () => port1.unref(),
    close: () => port1.close(),
  };
}
