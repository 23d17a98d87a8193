// Threads of the shutdown benchmark: they count themselves in, then wait for their interrupt.
import { criticalSection, sleep } from 'graceful-threads';

function countIn(counterBuffer) {
  const counter = new Int32Array(counterBuffer);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

/** Idle until interrupted, with an empty cleanup. */
export function idle(counterBuffer) {
  countIn(counterBuffer);
  sleep(Number.POSITIVE_INFINITY);
}

/** Stuck: spins inside a critical section, where no interrupt lands. */
export function stuck(counterBuffer) {
  criticalSection(function spinning() {
    countIn(counterBuffer);
    for (;;);
  });
}
