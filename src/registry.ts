/**
 * The registry: one control block per process holding the flag of every thread this library
 * started, from any thread, so that any of them can interrupt all the others. The main thread
 * creates it when the first thread starts and hands it to each thread it starts; Node's
 * environment data also gives it to workers started later by other means.
 */
import { type ControlBlock, createControlBlock, liveSlots, requestInterrupt } from './control-block.js';
import { encodeReason } from './reason.js';
import { isMainThread, publishProcessData } from './runtime/node.js';
import { REGISTRY_KEY, state } from './thread-state.js';

/**
 * How many threads started by this library may be alive at once in one process. Each takes a
 * 64-byte slot and a 4 KiB area for its interrupt reason; memory the OS commits only when used.
 */
export const MAX_LIVE_THREADS = 4096;

/** The process registry, created on first use by the main thread (or by an unrelated worker). */
export function ensureRegistry(): ControlBlock {
  if (state.registry !== undefined) return state.registry;
  const registry = createControlBlock(MAX_LIVE_THREADS);
  // A worker this library did not start, spawned before the main thread made a registry, gets
  // a registry of its own: its threads can reach each other but not the rest of the process.
  if (isMainThread) publishProcessData(REGISTRY_KEY, registry.memory);
  state.registry = registry;
  return registry;
}

/**
 * Interrupts every thread this library started in the process and that is still alive, from
 * any thread: threads started by other threads included, the calling thread excluded.
 *
 * @param reason as for `thread.interrupt(reason)`; cloned once, delivered to each thread.
 * @returns how many threads it reached (their flag is now set, by this call or an earlier one).
 * @example
 * ```ts
 * process.once('SIGINT', () => {
 *   console.log(`stopping ${interruptAllThreads('SIGINT')} threads`);
 * });
 * ```
 */
export function interruptAllThreads(reason?: unknown): number {
  const bytes = encodeReason(reason);
  const registry = state.registry;
  if (registry === undefined) return 0;
  let reached = 0;
  for (const ref of liveSlots(registry)) {
    if (state.managed && ref.slot === state.self.slot) continue;
    if (requestInterrupt(registry, ref, bytes) !== 'gone') reached++;
  }
  return reached;
}
