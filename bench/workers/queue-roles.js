// The threads of the Queue benches: producers and consumers of a graceful-threads Queue. They
// import nothing from the package: each thread gets the queue revived by the copy of the package
// that started it (bench/queue-ab.js starts two builds' threads side by side).
// control (Int32Array): [0] the round the main thread has started (threads wait for it), [1] the
// consumers that finished the round, [2] the threads ready. ends: a BigInt64Array of when each
// consumer finished each round (now(), the clock every thread shares).
import { now } from '../clock.js';
import { idOf, itemOf } from './queue-items.js';

function ready(control) {
  Atomics.add(control, 2, 1);
  Atomics.notify(control, 2);
}

function awaitRound(control, round) {
  while (Atomics.load(control, 0) < round + 1) Atomics.wait(control, 0, round, 1000);
}

/** Puts `n` items a round, for `rounds` rounds. */
export function producer(controlBuffer, queue, kind, n, rounds) {
  const control = new Int32Array(controlBuffer);
  ready(control);
  for (let round = 0; round < rounds; round++) {
    awaitRound(control, round);
    for (let i = 0; i < n; i++) queue.put(itemOf(kind, i));
  }
}

/** Takes `n` items a round, reading each (the sum of their ids), and records when it has. */
export function consumer(controlBuffer, endsBuffer, sumsBuffer, slot, queue, kind, n, rounds) {
  const control = new Int32Array(controlBuffer);
  const ends = new BigInt64Array(endsBuffer);
  const sums = new Float64Array(sumsBuffer);
  ready(control);
  for (let round = 0; round < rounds; round++) {
    awaitRound(control, round);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += idOf(kind, queue.take());
    ends[slot * rounds + round] = now();
    sums[slot * rounds + round] = sum;
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  }
}

/** Latency: takes `rounds` items, recording when each take returned; control[3] = 1 while waiting. */
export function waitingConsumer(controlBuffer, endsBuffer, queue, rounds) {
  const control = new Int32Array(controlBuffer);
  const ends = new BigInt64Array(endsBuffer);
  for (let round = 0; round < rounds; round++) {
    Atomics.store(control, 3, 1);
    Atomics.notify(control, 3);
    queue.take();
    ends[round] = now();
    Atomics.store(control, 3, 2);
    Atomics.notify(control, 3);
    Atomics.wait(control, 3, 2); // the main thread reads the time, then lets it go on
  }
}
