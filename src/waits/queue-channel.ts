/**
 * The side path of a queue for items bytes cannot hold: an item holding a shared object (a
 * `Lock`, a `Queue`...), a `SharedArrayBuffer`, or an object Node clones only by message. Its cell
 * holds no bytes, only a mark; the item itself is posted, keyed by its position, on a broadcast
 * channel named after the queue, which every thread joins when it gets the queue (made there, or
 * revived from `args` or from an item). So every thread that has the queue holds every value in
 * it: one that ends takes no only copy with it, and the queue's description, when sent to
 * another thread, carries the values it holds (its backlog).
 *
 * A taker claims such an item only once it holds its value, so an interrupt or a timeout never
 * loses it. A thread that got the queue after a value was posted and before its backlog was
 * taken (a thread starting while items are put) asks for it: a `need` message, counted in a
 * shared word every thread using the queue looks at. Every thread that holds the value answers:
 * when its event loop is free, when it next finds it must wait in the queue (the asker wakes the
 * queue's waiters for that), or within a few hundred of its queue operations.
 */
import { type Broadcast, joinBroadcast } from '../runtime/node-channel.js';

/** What the link needs of its queue, without holding the queue (so it can be collected). */
export interface LinkHost {
  /** True while `position` is in the queue (claimed by a putter, not yet by a taker). */
  isLive(position: number): boolean;
  /** Wakes the threads waiting in the queue: they look again (or answer a need). */
  wakeAll(): void;
  /** Bumps the shared count of needs, so that threads holding values look at their messages. */
  announceNeed(): void;
  /** Bumps the shared count of values posted, after posting one: threads read their messages only once it moved. */
  announcePost(): void;
  /** The number of live positions at most. */
  readonly capacity: number;
}

type Message = { readonly p: number; readonly v: unknown } | { readonly n: number };

/** One thread's membership of a queue's channel, and the values it holds. */
export class ChannelLink {
  readonly #host: LinkHost;
  readonly #channel: Broadcast;
  /** Position -> packed value, for live positions (and some stale ones until pruned). */
  readonly #values = new Map<number, unknown>();
  #asked = -1;

  constructor(name: string, host: LinkHost, backlog?: readonly (readonly [number, unknown])[]) {
    this.#host = host;
    this.#channel = joinBroadcast(name, (message) => this.#handle(message as Message));
    for (const [position, value] of backlog ?? []) this.#values.set(position, value);
  }

  /** Posts the value of the item the calling thread put at `position`, keeping it too. */
  post(position: number, value: unknown): void {
    this.#keep(position, value);
    this.#channel.post({ p: position, v: value });
    this.#host.announcePost();
  }

  /**
   * True when the value at `position` is held (after reading what has arrived); otherwise asks
   * the other threads for it, once.
   */
  has(position: number): boolean {
    if (this.#values.has(position)) return true;
    this.drain();
    if (this.#values.has(position)) return true;
    if (this.#asked !== position) {
      this.#asked = position;
      this.#channel.post({ n: position });
      this.#host.announceNeed();
      this.#host.wakeAll();
    }
    return false;
  }

  /** Hands over the value at `position` (held: {@link has} said so). */
  take(position: number): unknown {
    const value = this.#values.get(position);
    this.#values.delete(position);
    return value;
  }

  /** Reads every message that has arrived. */
  drain(): void {
    for (let m = this.#channel.receive(); m !== undefined; m = this.#channel.receive()) this.#handle(m as Message);
  }

  /** The live values held, for a description of the queue sent to another thread. */
  backlog(): [number, unknown][] {
    // What has arrived but not been read yet too: the receiver may depend on this thread alone
    // (the putter ended, and this thread is about to block in joinSync()).
    this.drain();
    this.#prune();
    return [...this.#values];
  }

  close(): void {
    this.#channel.close();
  }

  #handle(message: Message): void {
    if ('p' in message) {
      if (this.#host.isLive(message.p)) this.#keep(message.p, message.v);
      return;
    }
    const value = this.#values.get(message.n);
    if (value === undefined || !this.#host.isLive(message.n)) return;
    this.#channel.post({ p: message.n, v: value });
    this.#host.announcePost();
    this.#host.wakeAll();
  }

  #keep(position: number, value: unknown): void {
    this.#values.set(position, value);
    // At most `capacity` positions are live: the rest were taken, here or elsewhere.
    if (this.#values.size > this.#host.capacity) this.#prune();
  }

  #prune(): void {
    for (const position of this.#values.keys()) {
      if (!this.#host.isLive(position)) this.#values.delete(position);
    }
  }
}
