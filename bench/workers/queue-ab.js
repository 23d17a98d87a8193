// Thread targets for bench/queue-ab.js. They import nothing from the package: each thread gets
// the queue revived by the copy of the package that started it (the build under test).
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
export function consumer(controlBuffer, endsBuffer, sumsBuffer, queue, kind, n, rounds) {
  const control = new Int32Array(controlBuffer);
  const ends = new BigInt64Array(endsBuffer);
  const sums = new Float64Array(sumsBuffer);
  ready(control);
  for (let round = 0; round < rounds; round++) {
    awaitRound(control, round);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += idOf(kind, queue.take());
    ends[round] = now();
    sums[round] = sum;
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  }
}
