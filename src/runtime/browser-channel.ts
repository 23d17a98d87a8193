/**
 * The browser's side of ./node-channel.ts. A browser cannot read a `BroadcastChannel`
 * synchronously, which a queue's items of shared memory or ports need: those throw; items that
 * bytes hold (plain data) never use the channel.
 */
import { unsupportedInBrowser } from './browser-errors.js';

export interface Broadcast {
  post(message: unknown): void;
  receive(): unknown;
  close(): void;
}

export function joinBroadcast(_name: string, _onMessage: (message: unknown) => void): Broadcast {
  throw unsupportedInBrowser(
    'A queue item that crosses only by message (a SharedArrayBuffer, a MessagePort, a lock...)',
    "Put plain data in the queue, and share memory or ports through the thread's args.",
  );
}

/** A browser cannot tell a Proxy from its target: a Proxy is refused by the clone itself. */
export function isProxy(_value: object): boolean {
  return false;
}
