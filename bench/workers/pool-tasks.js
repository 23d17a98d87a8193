// Pool tasks for bench/pool.js, run by graceful-threads' ThreadPool and by piscina alike.
import { checkInterrupt, interruptionRequested } from 'graceful-threads';

/** The trivial task of the throughput and latency cases. */
export default function addOne(x) {
  return x + 1;
}

/**
 * A CPU-bound task: says it runs (control[0] = 1), then computes until interrupted. In piscina's
 * worker nothing sets the flag: only killing the worker stops it, as with any task it runs.
 */
export function crunch(controlBuffer) {
  const control = new Int32Array(controlBuffer);
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
  let x = 0;
  while (!interruptionRequested()) x = (x * 31 + 7) % 1_000_003;
  return x;
}

/**
 * crunch, ended as tasks usually end on an interrupt: checkInterrupt() throws its
 * ThreadInterruptedError out of the task (bench/ab-pool.js only; piscina has no flag to check).
 */
export function crunchChecked(controlBuffer) {
  const control = new Int32Array(controlBuffer);
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
  let x = 0;
  for (;;) {
    checkInterrupt();
    x = (x * 31 + 7) % 1_000_003;
  }
}
