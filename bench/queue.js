// Queue throughput and latency, each beside MessagePort.postMessage carrying the same values one
// message per item, measured in the same run:
//   throughput, 1 producer → 1 consumer, small integers and small objects { id, name }: items a
//     second from the main thread's go to the last consumer's last item (process.hrtime, the
//     clock every thread shares). Goals: integers ≥ 10×, objects ≥ 3× postMessage.
//   the 4 × 4 contended case: 4 producers and 4 consumers on one Queue of capacity 16, beside 4
//     independent postMessage pairs (a port has one receiver: the closest thing). Reported.
//   latency of one item to a consumer waiting in take(), from the put() to take() returning,
//     beside postMessage to a worker idle in its event loop: one way, and the round trip back.
//     Goal: the queue's p50 and p90 no worse than the postMessage round trip's.
// Threads live for the whole run and do every round of their case; the cases run round by round
// in a rotating order, so machine noise falls on all alike. The first round (code not yet
// optimized in the threads) is reported on its own. Every consumer, queue or port, reads each
// item it receives (a sum of the ids), and each round's sums are checked: both sides deliver
// and read the same items.
import { Worker } from 'node:worker_threads';
import { Queue, Thread } from 'graceful-threads';
import { delay, fmt, goal, micros, now, printTable, quantile, rotate, spread, waitFor } from './lib.js';

// The first, then 20 warm: a queue round of integers lasts about 30 ms, which one preemption on a
// busy machine can double; with 20, the p90 is the second slowest round, not the slowest.
const ROUNDS = 21;
const LATENCY_ROUNDS = 200;
// Sized for throughput: parking and being woken takes 50–200 µs on a busy machine, and a ring
// that holds more than that much work lets each side run on while the other wakes.
const CAPACITY = 16_384;
const ITEM_BYTES = 48; // { id, name } takes 38 bytes: a cell is one 64-byte line
const DESCRIBE = Symbol.for('graceful-threads.describe-shared.v1');
const TAKERS_WAITING = 48; // the queue's word counting the takers enlisted (src/waits/queue.ts)
const oursUrl = new URL('./workers/queue-ours.js', import.meta.url);
const bareUrl = new URL('./workers/queue-bare.js', import.meta.url);

const CASES = [
  { name: 'integers, 1 → 1', kind: 'number', producers: 1, consumers: 1, n: 200_000, capacity: CAPACITY, goal: 10 },
  {
    name: 'objects { id, name }, 1 → 1',
    kind: 'object',
    producers: 1,
    consumers: 1,
    n: 100_000,
    capacity: CAPACITY,
    goal: 3,
  },
  {
    name: 'integers, 4 × 4 contended (capacity 16)',
    kind: 'number',
    producers: 4,
    consumers: 4,
    n: 25_000,
    capacity: 16,
  },
];

function joined(worker) {
  return new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
}

/** Starts the threads of one side of a case; they wait for each round's go. */
async function startSide(c, side) {
  const control = new Int32Array(new SharedArrayBuffer(16));
  const ends = new BigInt64Array(new SharedArrayBuffer(8 * c.consumers * ROUNDS));
  // Each consumer's sum of the ids it read, each round.
  const sums = new Float64Array(new SharedArrayBuffer(8 * c.consumers * ROUNDS));
  const done = [];
  if (side === 'queue') {
    const queue = new Queue({ capacity: c.capacity, maxItemBytes: ITEM_BYTES });
    for (let p = 0; p < c.producers; p++) {
      const args = [control.buffer, queue, c.kind, c.n, ROUNDS];
      done.push(new Thread(oursUrl, { export: 'producer', args }).start().join());
    }
    for (let s = 0; s < c.consumers; s++) {
      const perConsumer = (c.n * c.producers) / c.consumers;
      const args = [control.buffer, ends.buffer, sums.buffer, s, queue, c.kind, perConsumer, ROUNDS];
      done.push(new Thread(oursUrl, { export: 'consumer', args }).start().join());
    }
  } else {
    // One channel per producer-consumer pair.
    for (let p = 0; p < c.producers; p++) {
      const { port1, port2 } = new MessageChannel();
      const common = {
        control: control.buffer,
        ends: ends.buffer,
        sums: sums.buffer,
        kind: c.kind,
        n: c.n,
        rounds: ROUNDS,
      };
      const producer = new Worker(bareUrl, {
        workerData: { ...common, role: 'producer', port: port1 },
        transferList: [port1],
      });
      const consumer = new Worker(bareUrl, {
        workerData: { ...common, role: 'consumer', port: port2, slot: p },
        transferList: [port2],
      });
      done.push(joined(producer), joined(consumer));
    }
  }
  await waitFor(control, 2, c.producers + c.consumers);
  return {
    name: `${c.name}, ${side}`,
    control,
    ends,
    sums,
    // Each producer puts ids 0 to n - 1 each round.
    expectedSum: (c.producers * c.n * (c.n - 1)) / 2,
    done: () => Promise.all(done),
    consumers: c.consumers,
    items: c.n * c.producers,
  };
}

/** Runs one round of one side: items a second. */
async function round(side, r) {
  Atomics.store(side.control, 1, 0);
  const start = now();
  Atomics.store(side.control, 0, r + 1);
  Atomics.notify(side.control, 0);
  await waitFor(side.control, 1, side.consumers);
  let end = 0n;
  let sum = 0;
  for (let s = 0; s < side.consumers; s++) {
    const t = side.ends[s * ROUNDS + r];
    if (t > end) end = t;
    sum += side.sums[s * ROUNDS + r];
  }
  if (sum !== side.expectedSum) throw new Error(`${side.name}, round ${r}: ids sum to ${sum}, not ${side.expectedSum}`);
  return side.items / (micros(start, end) / 1e6);
}

async function throughput() {
  const sides = new Map();
  for (const c of CASES) {
    sides.set(`${c.name}|queue`, await startSide(c, 'queue'));
    sides.set(`${c.name}|postMessage`, await startSide(c, 'postMessage'));
  }
  const keys = [...sides.keys()];
  const rates = new Map(keys.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const key of rotate(keys, r)) {
      await delay(5);
      rates.get(key).push(await round(sides.get(key), r));
    }
  }
  await Promise.all([...sides.values()].map((s) => s.done()));
  return rates;
}

/** Latency of one item to a waiting consumer: the queue, and postMessage one way and back. */
async function latency() {
  const queue = new Queue({ capacity: 16, maxItemBytes: ITEM_BYTES });
  const queueWaiting = new Int32Array(queue[DESCRIBE]().buffer);
  const qControl = new Int32Array(new SharedArrayBuffer(16));
  const qEnds = new BigInt64Array(new SharedArrayBuffer(8 * LATENCY_ROUNDS));
  const consumer = new Thread(oursUrl, {
    export: 'waitingConsumer',
    args: [qControl.buffer, qEnds.buffer, queue, LATENCY_ROUNDS],
  }).start();

  const bControl = new Int32Array(new SharedArrayBuffer(16));
  const bEnds = new BigInt64Array(new SharedArrayBuffer(8 * LATENCY_ROUNDS));
  const { port1, port2 } = new MessageChannel();
  const echo = new Worker(bareUrl, {
    workerData: { role: 'echo', port: port2, control: bControl.buffer, ends: bEnds.buffer, rounds: LATENCY_ROUNDS },
    transferList: [port2],
  });
  const echoEnded = joined(echo); // now: it may end before the last round is read
  await waitFor(bControl, 2, 1);
  let echoed;
  port1.on('message', () => echoed?.(now()));

  const oneWay = { queue: [], postMessage: [] };
  const roundTrip = [];
  for (let r = 0; r < LATENCY_ROUNDS; r++) {
    for (const kind of rotate(['queue', 'postMessage'], r)) {
      if (kind === 'queue') {
        await waitFor(qControl, 3, 1);
        // Parked in take(), past its first look: enlisted among the takers.
        while (Atomics.load(queueWaiting, TAKERS_WAITING) === 0) await delay(0);
        await delay(1 + Math.random() * 2);
        const start = now();
        queue.put(r);
        await waitFor(qControl, 3, 2);
        oneWay.queue.push(micros(start, qEnds[r]));
        Atomics.store(qControl, 3, 0);
        Atomics.notify(qControl, 3);
      } else {
        await delay(1 + Math.random() * 2);
        const back = new Promise((resolve) => {
          echoed = resolve;
        });
        const start = now();
        port1.postMessage(r);
        const end = await back;
        oneWay.postMessage.push(micros(start, bEnds[r]));
        roundTrip.push(micros(start, end));
      }
    }
  }
  port1.close();
  await Promise.all([consumer.join(), echoEnded]);
  return { oneWay, roundTrip };
}

export async function run() {
  const rates = await throughput();
  const verdicts = [];
  const rows = [];
  const firstRows = [];
  const mps = (v) => fmt(v / 1e6, 2);
  for (const c of CASES) {
    const ours = rates.get(`${c.name}|queue`);
    const base = rates.get(`${c.name}|postMessage`);
    const warmOurs = ours.slice(1);
    const warmBase = base.slice(1);
    // p90 of a rate: the rate of the round at the 90th percentile of durations (a slower round).
    const p50 = (v) => quantile(v, 0.5);
    const p90 = (v) => quantile(v, 0.1);
    const ratio50 = p50(warmOurs) / p50(warmBase);
    const ratio90 = p90(warmOurs) / p90(warmBase);
    let cell = 'reported';
    if (c.goal !== undefined) {
      const verdict = goal(
        `Queue throughput, ${c.name}: ≥ ${c.goal}× postMessage`,
        ratio50 >= c.goal && ratio90 >= c.goal,
        `p50 and p90 ≥ ${c.goal}×`,
        `${fmt(ratio50, 1)}× / ${fmt(ratio90, 1)}×`,
      );
      verdicts.push(verdict);
      cell = verdict.cell;
    }
    const label = c.producers > 1 ? `${c.name}; postMessage: 4 separate pairs` : c.name;
    rows.push([
      label,
      mps(p50(warmOurs)),
      mps(p90(warmOurs)),
      mps(p50(warmBase)),
      mps(p90(warmBase)),
      `${fmt(ratio50, 1)}×`,
      `${fmt(ratio90, 1)}×`,
      cell,
    ]);
    firstRows.push([label, mps(ours[0]), mps(base[0]), `${fmt(ours[0] / base[0], 1)}×`]);
  }
  printTable(
    `Queue throughput between threads, M items/s (${ROUNDS - 1} warm rounds, interleaved with the baseline; queue capacity ${CAPACITY} unless said; p90: the slower rounds)`,
    ['case', 'queue p50', 'queue p90', 'postMessage p50', 'postMessage p90', '× p50', '× p90', 'goal'],
    rows,
  );
  printTable(
    'The first round of each (code not yet optimized in the threads), M items/s',
    ['case', 'queue', 'postMessage', '×'],
    firstRows,
  );

  const { oneWay, roundTrip } = await latency();
  const q = spread(oneWay.queue);
  const pm = spread(oneWay.postMessage);
  const rt = spread(roundTrip);
  const met = q.p50 <= rt.p50 && q.p90 <= rt.p90;
  const verdict = goal(
    'Queue latency to a waiting consumer: no worse than a postMessage round trip',
    met,
    'p50 and p90 ≤ round trip',
    `${fmt(q.p50, 1)} / ${fmt(q.p90, 1)} µs vs ${fmt(rt.p50, 1)} / ${fmt(rt.p90, 1)} µs`,
  );
  verdicts.push(verdict);
  printTable(
    `Latency of one item to a waiting consumer, µs (${LATENCY_ROUNDS} rounds each, interleaved; sent 1–3 ms after it waits)`,
    ['path', 'n', 'p50', 'p90', 'p99', 'max'],
    [
      ['queue.put() → take() returns in a thread parked in it', oneWay.queue.length, ...q.cells],
      ['postMessage → handler runs in an idle worker (one way)', oneWay.postMessage.length, ...pm.cells],
      ['postMessage → echo → handler runs here (round trip)', roundTrip.length, ...rt.cells],
    ],
    [`Goal: ${verdict.cell}`],
  );
  return verdicts;
}
