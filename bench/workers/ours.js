// Thread targets for the benchmarks: what runs inside a graceful-threads Thread.
// control (Int32Array over a SharedArrayBuffer): [0] state (1 = asleep, 2 = awake), [1] a
// futex word, [2] a counter. times: a BigInt64Array of now() readings, the
// clock every thread of the process shares.
import { clearInterrupt, sleep, ThreadInterruptedError } from 'graceful-threads';
import { now } from '../clock.js';

function announce(control, value) {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

/** Wake latency: `rounds` times, sleeps until interrupted and records when it runs again. */
export function sleeper(controlBuffer, timesBuffer, rounds) {
  const control = new Int32Array(controlBuffer);
  const times = new BigInt64Array(timesBuffer);
  for (let i = 0; i < rounds; i++) {
    announce(control, 1);
    try {
      sleep(Number.POSITIVE_INFINITY);
    } catch (error) {
      if (!(error instanceof ThreadInterruptedError)) throw error;
      times[i] = now();
      clearInterrupt();
    }
    announce(control, 2);
    Atomics.wait(control, 0, 2); // the main thread reads the time, then lets it go on
  }
}

/** Join latency and idle memory: sleeps until interrupted; the interruption ends the thread. */
export function sleepUntilInterrupted(controlBuffer) {
  const control = new Int32Array(controlBuffer);
  Atomics.add(control, 2, 1);
  announce(control, 1);
  sleep(Number.POSITIVE_INFINITY);
}
