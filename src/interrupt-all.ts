/**
 * `interruptAllThreads()`. Part of rare.js (src/rare.ts): a thread that interrupts no other
 * does not load it.
 */
import { liveSlots, requestInterrupt } from './control-block.js';
import { heavy } from './lazy.js';
import { callerIn, state } from './thread-state.js';

/** `interruptAllThreads()`, which index.ts exports and documents. */
export function interruptAllThreads(reason?: unknown): number {
  // Without a reason there is nothing to clone, and the codec stays unloaded.
  const bytes = reason === undefined ? undefined : heavy().encodeReason(reason);
  const registry = state.registry;
  if (registry === undefined) return 0;
  const caller = callerIn(registry);
  let interrupted = 0;
  for (const ref of liveSlots(registry)) {
    if (ref.slot === caller) continue;
    if (requestInterrupt(registry, ref, bytes, caller) === 'set') interrupted++;
  }
  return interrupted;
}
