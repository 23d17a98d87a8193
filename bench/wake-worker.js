// The sleeping side of the wake-latency benchmark. `mode` picks what it sleeps in; each time it
// wakes it records the wall-clock time in shared memory and tells the main thread.
import { parentPort } from 'node:worker_threads';
import { clearInterrupt, sleep, ThreadInterruptedError } from 'graceful-threads';
import { processClockMs } from './lib.js';

// control: [0] state (1 = asleep, 2 = awake, 3 = quit), [1] raw futex word
export function sleeper(controlBuffer, wakeTimes, rounds) {
  const control = new Int32Array(controlBuffer);
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    try {
      sleep(Number.POSITIVE_INFINITY);
    } catch (error) {
      if (!(error instanceof ThreadInterruptedError)) throw error;
      wakeTimes[i] = processClockMs();
      clearInterrupt();
    }
    Atomics.store(control, 0, 2);
    Atomics.notify(control, 0);
    Atomics.wait(control, 0, 2); // the main thread reads the time, then lets it go on
  }
}

export function rawFutex(controlBuffer, wakeTimes, rounds) {
  const control = new Int32Array(controlBuffer);
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 1, 0);
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    Atomics.wait(control, 1, 0);
    wakeTimes[i] = processClockMs();
    Atomics.store(control, 0, 2);
    Atomics.notify(control, 0);
    Atomics.wait(control, 0, 2);
  }
}

// The hand-rolled polling pattern: a stop flag checked between short sleeps that nothing wakes.
export function pollingSleeper(controlBuffer, wakeTimes, rounds) {
  const control = new Int32Array(controlBuffer);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 1, 0);
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    while (Atomics.load(control, 1) === 0) Atomics.wait(nap, 0, 0, POLL_MS);
    wakeTimes[i] = processClockMs();
    Atomics.store(control, 0, 2);
    Atomics.notify(control, 0);
    Atomics.wait(control, 0, 2);
  }
}

/** The polling interval of the hand-rolled pattern. */
export const POLL_MS = 10;

// The hand-rolled pattern: an idle event loop waiting for postMessage('stop').
export function messageStop(controlBuffer, wakeTimes, rounds) {
  const control = new Int32Array(controlBuffer);
  let i = 0;
  const port = parentPort;
  return new Promise((resolve) => {
    const arm = () => {
      Atomics.store(control, 0, 1);
      Atomics.notify(control, 0);
    };
    const onMessage = (message) => {
      if (message !== 'stop') return;
      wakeTimes[i] = processClockMs();
      Atomics.store(control, 0, 2);
      Atomics.notify(control, 0);
      Atomics.wait(control, 0, 2);
      if (++i === rounds) {
        port.off('message', onMessage);
        resolve();
      } else arm();
    };
    port.on('message', onMessage);
    arm();
  });
}
