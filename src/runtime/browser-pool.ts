/**
 * The browser's side of ./node-pool.ts: `ThreadPool` is not available in browsers yet (its
 * workers read their task port synchronously, which a browser cannot). Constructing one throws.
 */
import { unsupportedInBrowser } from './browser-errors.js';

interface MessagePort {
  postMessage(message: unknown): void;
}

function poolUnsupported(): Error {
  return unsupportedInBrowser('ThreadPool', 'Start Thread objects instead (new Thread(url).start()).');
}

/** The base of `ThreadPool`: constructing it throws `ERR_UNSUPPORTED_IN_BROWSER`. */
export class EventEmitter {
  constructor() {
    throw poolUnsupported();
  }
  emit(_event: string | symbol, ..._args: unknown[]): boolean {
    return false;
  }
}

export function receiveNow(_port: MessagePort): { readonly message: unknown } | undefined {
  throw poolUnsupported();
}

export function availableParallelism(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

export interface TaskChannel {
  readonly threadEnd: MessagePort;
  post(message: unknown, transferList?: readonly unknown[]): void;
  takeAll(): unknown[];
  ref(): void;
  unref(): void;
  close(): void;
}

export function openTaskChannel(_onMessage: (message: unknown) => void): TaskChannel {
  throw poolUnsupported();
}
