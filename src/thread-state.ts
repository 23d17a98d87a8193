/**
 * The calling thread's own state: its slot in a control block, its name, its critical-section
 * depth. It lives on a registered global symbol, so every copy of this package loaded in the same
 * thread (the library's bootstrap and a user's import of another copy or version) shares one
 * flag and one depth.
 */

import type { AsyncInterruptStart } from './async-interrupt/options.js';
import {
  allocateSlot,
  type Caller,
  type ControlBlock,
  type ControlMemory,
  createControlBlock,
  isControlMemory,
  openControlBlock,
  type SlotRef,
} from './control-block.js';
import { currentThreadId, isMainThread, type KeepAlive, type MessagePort, startData } from './runtime/node.js';

/**
 * Where a thread started by this library finds its control data inside `workerData`. v2: the
 * thread's entry is the package's own, which runs the target once it claims this data; a copy of
 * the package from before that (v1, with a bootstrap of its own) finds no data of its kind here.
 */
export const START_KEY = 'graceful-threads:start:v2';
const STATE_KEY: unique symbol = Symbol.for('graceful-threads.thread-state.v1');
const CLAIMED: unique symbol = Symbol.for('graceful-threads.start-claimed');

/** What a thread started by this library receives, besides its arguments. */
export interface StartData {
  readonly registry: ControlMemory;
  readonly slot: number;
  readonly gen: number;
  readonly name: string;
  readonly moduleHref: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
  /** True when `args` hold shared objects (locks, queues...) to revive before the target runs. */
  readonly shared: boolean;
  readonly port: MessagePort;
  /**
   * Set for a worker of a `ThreadPool`: it loads the module once and runs the tasks it is sent
   * on `port` until the pool closes it (src/pool-worker.ts). The words it shares with its pool
   * (src/pool-worker.ts `POOL_WORDS`): the pool's cancel-everything word, the task it cancelled,
   * the task the worker runs.
   */
  readonly pool?: Int32Array;
  /** Set when the thread opted in to asynchronous interruption (src/async-interrupt/). */
  readonly asyncInterrupt?: AsyncInterruptStart;
}

/** The calling thread's state. */
export interface OwnState {
  /** The block holding this thread's flag: the process registry, or a private block. */
  readonly block: ControlBlock;
  readonly self: SlotRef;
  /** The registry of the threads this thread can interrupt all at once, once made. */
  registry: ControlBlock | undefined;
  /** True when this thread was started by this library (its slot is in the registry). */
  readonly managed: boolean;
  readonly name: string;
  readonly threadId: number;
  /** Open critical sections. */
  criticalDepth: number;
  /**
   * Set while the interruption signal dispatches its abort event: the asynchronous interrupt's
   * checks do not throw in the listeners that react to it (the event would report the error as
   * uncaught, out of reach of the target's catch). Optional: another copy may predate it.
   */
  abortDispatching?: number;
  /**
   * True once the asynchronous interrupt's checks have thrown for the interrupt now set; false
   * again once the flag is cleared (clearInterrupt(), a pool task's start). Optional:
   * another copy may predate it.
   */
  asyncThrown?: boolean;
  /**
   * Set by the bootstrap of a thread this library started: compiles what the thread runs on its
   * way out without doing it, for `warmInterruptPath()` (src/current.ts) to call before it first
   * blocks. Optional: another copy may predate it.
   */
  warmExitPath?: (() => void) | undefined;
  /** The last decoded reason, keyed by the interrupt's sequence number. */
  reasonCache: { readonly seq: number; readonly value: unknown } | undefined;
  /** Created on the first call of `interruptionSignal()`; replaced once aborted and cleared. */
  signalController: AbortController | undefined;
  /**
   * Set by the bootstrap while the thread's target runs: referenced while the signal's watcher
   * waits, so a target awaiting only its interruption is not ended early by an empty event loop.
   */
  targetKeepAlive: KeepAlive | undefined;
}

/** Reads this library's start data out of `workerData`, if this thread was started by it. */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const readStartData = (function (): StartData | undefined {
  if (typeof startData !== 'object' || startData === null) return undefined;
  const data = (startData as Record<string, unknown>)[START_KEY];
  if (typeof data !== 'object' || data === null) return undefined;
  return isControlMemory((data as Partial<StartData>).registry) ? (data as StartData) : undefined;
});

/**
 * Returns this thread's start data to its first caller only: the copy of the package the thread
 * was started with, which runs its target. Undefined for every later caller (another copy the
 * target imports), and in threads this library did not start.
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const claimStartData = (function (): StartData | undefined {
  const start = readStartData();
  if (start === undefined || (start as { [CLAIMED]?: true })[CLAIMED] === true) return undefined;
  Object.defineProperty(start, CLAIMED, { value: true });
  return start;
});

// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const createState = (function (): OwnState {
  const start = readStartData();
  if (start !== undefined) {
    const block = openControlBlock(start.registry);
    return baseState(block, { slot: start.slot, gen: start.gen }, block, true, start.name);
  }
  // The main thread, or a worker this library did not start: a private flag nobody else can
  // reach. Its registry is made when it first starts a thread.
  const name = isMainThread ? 'main' : `worker-${currentThreadId}`;
  const block = createControlBlock(1);
  return baseState(block, allocateSlot(block, undefined)!, undefined, false, name);
});

// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const baseState = (function (
  block: ControlBlock,
  self: SlotRef,
  registry: ControlBlock | undefined,
  managed: boolean,
  name: string,
): OwnState {
  return {
    block,
    self,
    registry,
    managed,
    name,
    threadId: currentThreadId,
    criticalDepth: 0,
    reasonCache: undefined,
    signalController: undefined,
    targetKeepAlive: undefined,
  };
});

const holder = globalThis as typeof globalThis & { [STATE_KEY]?: OwnState };

/** The calling thread's state, shared by every copy of the package in this thread. */
export const state: OwnState = holder[STATE_KEY] ?? createState();
if (holder[STATE_KEY] === undefined) {
  Object.defineProperty(holder, STATE_KEY, { value: state, enumerable: false });
}

/**
 * The calling thread as a caller in `block`: its own slot when the block is the registry it
 * lives in, else undefined (the group's root, or the private block of an unmanaged thread).
 */
export function callerIn(block: ControlBlock): Caller {
  return state.managed && block === state.block ? state.self.slot : undefined;
}
