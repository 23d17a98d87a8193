// A/B of Queue builds in one run: 1 producer → 1 consumer through a Queue of each build, beside
// MessagePort.postMessage, interleaved round by round (the order rotating), each build's threads
// started by its own copy of the package. For a change to src/waits/queue*.ts, against main:
//   git worktree add --detach ../base main && (cd ../base && npm ci && npm run build)
//   npm run build && node bench/queue-ab.js number main=../base this=.
//   node bench/queue-ab.js object main=../base this=.
// Arguments: the kind (number: small integers; object: { id, name }), then label=directory of a
// built checkout, one or more. Prints items/s at p50 and p90 (the slower rounds) of 20 warm
// rounds, and each against postMessage.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { delay, fmt, micros, now, printTable, quantile, rotate, waitFor } from './lib.js';

const ROUNDS = 21; // the first (reported apart by bench/queue.js; left out here), then 20 warm
const CAPACITY = 16_384;
const ITEM_BYTES = 48;
const [kind, ...builds] = process.argv.slice(2);
if (!['number', 'object'].includes(kind) || builds.length === 0 || builds.some((b) => !b.includes('='))) {
  console.error('Usage: node bench/queue-ab.js number|object label=dir [label=dir ...]');
  process.exit(2);
}
const n = kind === 'number' ? 200_000 : 100_000;
const expectedSum = (n * (n - 1)) / 2;
const targetUrl = new URL('./workers/queue-roles.js', import.meta.url);
const bareUrl = new URL('./workers/queue-bare.js', import.meta.url);

function joined(worker) {
  return new Promise((done, fail) => {
    worker.once('exit', done);
    worker.once('error', fail);
  });
}

function sideMemory() {
  return {
    control: new Int32Array(new SharedArrayBuffer(16)),
    ends: new BigInt64Array(new SharedArrayBuffer(8 * ROUNDS)),
    sums: new Float64Array(new SharedArrayBuffer(8 * ROUNDS)),
  };
}

const sides = [];
for (const build of builds) {
  const [label, dir] = build.split('=');
  const { Queue, Thread } = await import(pathToFileURL(resolve(dir, 'dist/index.js')).href);
  const memory = sideMemory();
  const queue = new Queue({ capacity: CAPACITY, maxItemBytes: ITEM_BYTES });
  const { control, ends, sums } = memory;
  const done = [
    new Thread(targetUrl, { export: 'producer', args: [control.buffer, queue, kind, n, ROUNDS] }).start().join(),
    new Thread(targetUrl, {
      export: 'consumer',
      args: [control.buffer, ends.buffer, sums.buffer, 0, queue, kind, n, ROUNDS],
    })
      .start()
      .join(),
  ];
  await waitFor(control, 2, 2);
  sides.push({ label, ...memory, done });
}
{
  const memory = sideMemory();
  const { port1, port2 } = new MessageChannel();
  const common = {
    control: memory.control.buffer,
    ends: memory.ends.buffer,
    sums: memory.sums.buffer,
    kind,
    n,
    rounds: ROUNDS,
  };
  const producer = new Worker(bareUrl, {
    workerData: { ...common, role: 'producer', port: port1 },
    transferList: [port1],
  });
  const consumer = new Worker(bareUrl, {
    workerData: { ...common, role: 'consumer', port: port2, slot: 0 },
    transferList: [port2],
  });
  const done = [joined(producer), joined(consumer)];
  await waitFor(memory.control, 2, 2);
  sides.push({ label: 'postMessage', ...memory, done });
}

const rates = new Map(sides.map((side) => [side.label, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const side of rotate(sides, r)) {
    await delay(5);
    Atomics.store(side.control, 1, 0);
    const start = now();
    Atomics.store(side.control, 0, r + 1);
    Atomics.notify(side.control, 0);
    await waitFor(side.control, 1, 1);
    if (side.sums[r] !== expectedSum) throw new Error(`${side.label}, round ${r}: ids sum to ${side.sums[r]}`);
    rates.get(side.label).push(n / (micros(start, side.ends[r]) / 1e6));
  }
}
await Promise.all(sides.flatMap((side) => side.done));

const warm = (label) => rates.get(label).slice(1);
const p50 = (v) => quantile(v, 0.5);
const p90 = (v) => quantile(v, 0.1); // the rate of the round at the 90th percentile of durations
const base = warm('postMessage');
printTable(
  `Queue builds, ${kind === 'number' ? 'integers' : 'objects { id, name }'}, 1 → 1, M items/s (${ROUNDS - 1} warm rounds each, interleaved)`,
  ['build', 'p50', 'p90', '× postMessage p50', '× postMessage p90'],
  [...rates.keys()].map((label) => {
    const v = warm(label);
    return [label, fmt(p50(v) / 1e6), fmt(p90(v) / 1e6), fmt(p50(v) / p50(base), 1), fmt(p90(v) / p90(base), 1)];
  }),
);
