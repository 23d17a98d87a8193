/**
 * The registry: one control block holding the flag of every thread this library started from
 * the main thread, and from the threads those started, so that any of them can interrupt all
 * the others. The main thread creates it when it starts its first thread and hands it to each
 * thread it starts.
 *
 * A worker this library did not start (a plain `new Worker()`) gets a registry of its own for the
 * threads it starts: their handles die with that worker, so only a registry that dies with it
 * can never be left holding their slots.
 */
import { type ControlBlock, createControlBlock } from './control-block.js';
import { heavy } from './lazy.js';
import { rare } from './lazy-rare.js';
import { callerIn, state } from './thread-state.js';

/**
 * How many threads started by this library may be alive at once in one group: the threads
 * started from one main thread (or one plain `new Worker()`) and their descendants. Each takes a
 * 64-byte slot and a 4 KiB area for its interrupt reason; memory the OS commits only when used.
 */
export const MAX_LIVE_THREADS = 4096;

/** The calling thread's registry, created on first use. */
export function ensureRegistry(): ControlBlock {
  state.registry ??= createControlBlock(MAX_LIVE_THREADS);
  return state.registry;
}

/**
 * Interrupts every live thread of the calling thread's group (usually every thread this library
 * started in the process), from any thread of it: threads started by other threads included, the
 * calling thread excluded.
 *
 * @param reason as for `thread.interrupt(reason)`; cloned once, delivered to each thread.
 * @returns how many threads this call interrupted (threads whose flag was already set are not
 *   counted again).
 * @example
 * ```ts
 * process.once('SIGINT', () => {
 *   console.log(`interrupted ${interruptAllThreads('SIGINT')} threads`);
 * });
 * ```
 */
export function interruptAllThreads(reason?: unknown): number {
  // Without a reason there is nothing to clone, and the codec stays unloaded.
  const bytes = reason === undefined ? undefined : heavy().encodeReason(reason);
  const registry = state.registry;
  if (registry === undefined) return 0;
  const caller = callerIn(registry);
  const { liveSlots, requestInterrupt } = rare();
  let interrupted = 0;
  for (const ref of liveSlots(registry)) {
    if (ref.slot === caller) continue;
    if (requestInterrupt(registry, ref, bytes, caller) === 'set') interrupted++;
  }
  return interrupted;
}
