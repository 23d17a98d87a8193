/**
 * What a queue needs of the platform beyond shared memory: a named broadcast channel that any
 * thread of the process can join and read synchronously (for items bytes cannot hold: shared
 * memory, objects that cross only by message), and a proxy check for its plain-data codec.
 */
import { BroadcastChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { broadcastThroughHub, hubLink } from './node.js';

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
  const hub = broadcastThroughHub ? hubLink() : undefined;
  if (hub !== undefined) return joinThroughHub(hub, name, onMessage);
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

/** A member of a channel joined through the hub, and what has arrived for it, not yet read. */
interface Member {
  readonly onMessage: (message: unknown) => void;
  readonly pending: unknown[];
}

/** This thread's members of each channel joined through the hub. */
const members = new Map<string, Set<Member>>();
let listening = false;
let flushing = false;

/**
 * Joins `name` through the hub (see hubLink() in ./node.ts), as a BroadcastChannel would: what a
 * member posts reaches the channel's other members, in this thread and in the others.
 */
function joinThroughHub(hub: MessagePort, name: string, onMessage: (message: unknown) => void): Broadcast {
  if (!listening) {
    listening = true;
    hub.on('message', (message: { name: string; data: unknown }) => {
      arrived(message);
      flush();
    });
    hub.unref();
  }
  const member: Member = { onMessage, pending: [] };
  let joined = members.get(name);
  if (joined === undefined) {
    joined = new Set();
    members.set(name, joined);
    hub.postMessage({ join: name });
  }
  joined.add(member);
  return {
    post: (message) => {
      // Throws what postMessage throws, before any member has it.
      hub.postMessage({ name, data: message, ack: acks, seq: ++posted });
      awaitForwarded(posted);
      const others = [...(members.get(name) ?? [])].filter((other) => other !== member);
      if (others.length === 0) return;
      for (const other of others) other.pending.push(structuredClone(message));
      flushSoon();
    },
    receive: () => {
      for (let m = receiveMessageOnPort(hub); m !== undefined; m = receiveMessageOnPort(hub)) {
        arrived(m.message as { name: string; data: unknown });
      }
      // What arrived for the thread's other members reaches them once its event loop is free.
      flushSoon();
      return member.pending.shift();
    },
    close: () => {
      joined.delete(member);
      if (joined.size > 0 || members.get(name) !== joined) return;
      members.delete(name);
      hub.postMessage({ leave: name });
    },
  };
}

/** Where the hub says, with the number of the last message it forwarded, that it has. */
const acks = new Int32Array(new SharedArrayBuffer(4));
let posted = 0;

/**
 * Blocks until the hub has forwarded message `seq`: the thread this one wakes next (a taker it
 * answered, a thread it starts with the queue) must find it in its port. Bounded: should the hub
 * not answer (the process is exiting), the message arrives late or not at all, as it would then.
 */
function awaitForwarded(seq: number): void {
  const deadline = Date.now() + 5_000;
  for (let seen = Atomics.load(acks, 0); seen - seq < 0; seen = Atomics.load(acks, 0)) {
    const left = deadline - Date.now();
    if (left <= 0) return;
    Atomics.wait(acks, 0, seen, left);
  }
}

/** Hands a message from the hub to each of this thread's members of its channel. */
function arrived(message: { name: string; data: unknown }): void {
  const joined = members.get(message.name);
  if (joined === undefined) return;
  let first = true;
  for (const member of joined) {
    member.pending.push(first ? message.data : structuredClone(message.data));
    first = false;
  }
}

function flushSoon(): void {
  if (flushing) return;
  flushing = true;
  queueMicrotask(flush);
}

/** Delivers what has arrived and not been read to its members' onMessage. */
function flush(): void {
  flushing = false;
  for (const joined of members.values()) {
    for (const member of joined) {
      for (let message = member.pending.shift(); message !== undefined; message = member.pending.shift()) {
        member.onMessage(message);
      }
    }
  }
}

let isProxyFunction: ((value: unknown) => boolean) | undefined;

/** True for a `Proxy` (which structured clone refuses, whatever it wraps). */
export function isProxy(value: object): boolean {
  isProxyFunction ??= process.getBuiltinModule('node:util').types.isProxy;
  return isProxyFunction(value);
}
