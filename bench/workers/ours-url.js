// Idle memory, ours with the package imported by its file's URL rather than by name (memory.js
// says why): the same module the thread's entry is, so nothing is loaded twice.
import { sleep } from '../../dist/index.js';

/** Sleeps until interrupted, as ours.js's sleepUntilInterrupted does. */
export function sleepUntilInterrupted(controlBuffer) {
  const control = new Int32Array(controlBuffer);
  Atomics.add(control, 2, 1);
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
  sleep(Number.POSITIVE_INFINITY);
}
