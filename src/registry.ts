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
import { state } from './thread-state.js';

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
