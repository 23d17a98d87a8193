// The tasks of ./pool-tasks.js for piscina's workers: the same code, without graceful-threads.
// Piscina's users do not import it, and a worker piscina starts in place of one it killed loads
// its module again: importing the package there would add its load time (about 4 ms on a loaded
// 2-core machine, Node 26) to piscina's figure of the cancel case.

/** The trivial task of the throughput and latency cases. */
export default function addOne(x) {
  return x + 1;
}

/**
 * The CPU-bound task: says it runs (control[0] = 1), then computes while control[1] is 0, which
 * nothing sets: piscina stops it by killing its worker. The word is read as ours reads its flag
 * (a plain read of shared memory, which V8 does not hoist out of the loop).
 */
export function crunch(controlBuffer) {
  const control = new Int32Array(controlBuffer);
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
  let x = 0;
  while (control[1] === 0) x = (x * 31 + 7) % 1_000_003;
  return x;
}
