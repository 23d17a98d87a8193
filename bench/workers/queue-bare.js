// The baseline of bench/queue.js: a plain Worker posting the same items on a MessagePort, one
// message per item, or receiving them. workerData: { role, port, control, ends, sums, slot, kind,
// n, rounds } with control, ends and sums laid out as in queue-ours.js.
import { workerData } from 'node:worker_threads';
import { now } from '../clock.js';
import { idOf, itemOf } from './queue-items.js';

const { role, port, control: controlBuffer, ends: endsBuffer, sums: sumsBuffer, slot, kind, n, rounds } = workerData;
const control = new Int32Array(controlBuffer);

function ready() {
  Atomics.add(control, 2, 1);
  Atomics.notify(control, 2);
}

if (role === 'producer') {
  ready();
  for (let round = 0; round < rounds; round++) {
    while (Atomics.load(control, 0) < round + 1) Atomics.wait(control, 0, round, 1000);
    for (let i = 0; i < n; i++) port.postMessage(itemOf(kind, i));
  }
  // Its port stays open: the consumer closes the channel once it has every item.
} else if (role === 'consumer') {
  const ends = new BigInt64Array(endsBuffer);
  const sums = new Float64Array(sumsBuffer);
  let count = 0;
  let sum = 0;
  let round = 0;
  port.on('message', (item) => {
    sum += idOf(kind, item);
    if (++count < n) return;
    ends[slot * rounds + round] = now();
    sums[slot * rounds + round] = sum;
    sum = 0;
    count = 0;
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
    if (++round === rounds) port.close();
  });
  ready();
} else {
  // Latency: echoes each message (the round trip), after recording when it arrived (one way).
  const ends = new BigInt64Array(endsBuffer);
  let round = 0;
  port.on('message', (item) => {
    ends[round++] = now();
    port.postMessage(item);
    if (round === rounds) port.close();
  });
  ready();
}
