/**
 * What a queue needs of the platform beyond shared memory: a named broadcast channel that any
 * thread of the process can join and read synchronously (for items bytes cannot hold: shared
 * memory, objects that cross only by message), and a proxy check for its plain-data codec.
 */
import { BroadcastChannel, receiveMessageOnPort } from 'node:worker_threads';

/** A named channel every thread of the process can join: what one posts, the others receive. */
export interface Broadcast {
  /** Structured-clones `message` to every other member (throws what `postMessage` throws). */
  post(message: unknown): void;
  /** The next message received and not yet read, read synchronously; undefined when none. */
  receive(): unknown;
  close(): void;
}

/**
 * Joins the channel named `name`. Messages are queued for this member from the moment it joins;
 * `onMessage` also sees them when the event loop is free. It keeps no event loop alive.
 */
export function joinBroadcast(name: string, onMessage: (message: unknown) => void): Broadcast {
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => onMessage((event as MessageEvent).data);
  channel.unref();
  return {
    post: (message) => channel.postMessage(message),
    receive: () => (syncReceive ? receiveNow(channel) : undefined),
    close: () => channel.close(),
  };
}

// Node's BroadcastChannel is a MessagePort inside, which receiveMessageOnPort reads. Deno's is
// not (it throws ERR_INVALID_ARG_TYPE): there messages arrive only through `onMessage`, when the
// thread's event loop is free, and a thread blocked in a queue reads none (README "Runtime support").
let syncReceive = true;

function receiveNow(channel: BroadcastChannel): unknown {
  try {
    return (receiveMessageOnPort(channel as never) as { message: unknown } | undefined)?.message;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_INVALID_ARG_TYPE') throw error;
    syncReceive = false;
    return undefined;
  }
}

let isProxyFunction: ((value: unknown) => boolean) | undefined;

/** True for a `Proxy` (which structured clone refuses, whatever it wraps). */
export function isProxy(value: object): boolean {
  isProxyFunction ??= process.getBuiltinModule('node:util').types.isProxy;
  return isProxyFunction(value);
}
