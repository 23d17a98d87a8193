// Wake latency in a browser, ours: a Thread that sleeps until interrupted (bare.js is the
// floor). control: [0] state (1 = asleep, 2 = awake). times: when each round woke, on the clock
// every thread of the page shares (performance.timeOrigin + performance.now(), in ms).
import { clearInterrupt, sleep, ThreadInterruptedError } from '/node_modules/graceful-threads/dist/browser/index.js';

const now = () => performance.timeOrigin + performance.now();

function announce(control, value) {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

export default function sleeper(control, times, rounds) {
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
    Atomics.wait(control, 0, 2); // the page reads the time, then lets it go on
  }
}
