// Thread targets for bench/waits.js. control (Int32Array): [0] state (1 = about to block,
// 2 = running again); times: now() readings, the clock all threads share.
import { clearInterrupt, isThreadInterruptedError, sleep } from 'graceful-threads';
import { now } from '../clock.js';

function announce(control, value) {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

const blockers = {
  sleep: () => sleep(Number.POSITIVE_INFINITY),
  // The main thread holds the lock: the wait ends only with the interrupt.
  lock: (primitive) => primitive.acquire(),
  // Empty, and nobody puts: the wait ends only with the interrupt.
  queue: (primitive) => primitive.take(),
  // Nobody notifies: the wait ends only with the interrupt (after taking the lock back).
  condition: (primitive) => {
    primitive.lock.acquire();
    try {
      primitive.wait();
    } finally {
      primitive.lock.release();
    }
  },
};

/** `rounds` times: blocks in `kind` until interrupted and records when it runs again. */
export function blockUntilInterrupted(kind, primitive, controlBuffer, timesBuffer, rounds) {
  const control = new Int32Array(controlBuffer);
  const times = new BigInt64Array(timesBuffer);
  const block = blockers[kind];
  for (let i = 0; i < rounds; i++) {
    announce(control, 1);
    try {
      block(primitive);
      throw new Error(`${kind} returned without the interrupt`);
    } catch (error) {
      if (!isThreadInterruptedError(error)) throw error;
      times[i] = now();
      clearInterrupt();
    }
    announce(control, 2);
    Atomics.wait(control, 0, 2); // the main thread reads the time, then lets it go on
  }
}
