// Interrupt-to-wake latency of a sleeping thread: from the moment the wake is issued to the
// moment the thread runs again, on the one process clock every thread shares. Cases, woken
// round by round in a rotating order so machine noise falls on all of them alike:
//   ours: thread.interrupt() → sleep(Infinity) throws ThreadInterruptedError;
//   the floor: Atomics.notify → a bare Worker in Atomics.wait;
//   hand-rolled: worker.postMessage('stop') → a bare Worker idle in its event loop;
//   hand-rolled: a shared flag polled between 10 ms naps.
// Then the same wakes after a 2 s sleep, and the first wake of a fresh thread (for ours, the
// first ThreadInterruptedError its isolate builds), each reported on its own.
import { Worker } from 'node:worker_threads';
import { Thread } from 'graceful-threads';
import { delay, fmt, micros, now, printTable, rotate, spread, waitFor } from './lib.js';

const ROUNDS = 250;
const LONG_ROUNDS = 4;
const LONG_SLEEP_MS = 2000;
const FRESH_ROUNDS = 15;
const POLL_MS = 10;
const oursUrl = new URL('./workers/ours.js', import.meta.url);
const bareUrl = new URL('./workers/bare.js', import.meta.url);

const OURS = 'thread.interrupt() → sleep() throws';
const FUTEX = 'Atomics.notify → bare Atomics.wait (floor)';
const MESSAGE = "postMessage('stop') → bare idle event loop";
const POLL = `flag polled between ${POLL_MS} ms naps (hand-rolled)`;

/** Starts one sleeping thread of a kind, for `rounds` wakes. */
function startCase(kind, rounds) {
  const controlBuffer = new SharedArrayBuffer(16);
  const timesBuffer = new SharedArrayBuffer(8 * rounds);
  const control = new Int32Array(controlBuffer);
  const times = new BigInt64Array(timesBuffer);
  if (kind === OURS) {
    const thread = new Thread(oursUrl, { export: 'sleeper', args: [controlBuffer, timesBuffer, rounds] }).start();
    return { control, times, wake: () => thread.interrupt(), done: () => thread.join() };
  }
  const mode = { [FUTEX]: 'futex', [MESSAGE]: 'message', [POLL]: 'poll' }[kind];
  const worker = new Worker(bareUrl, {
    workerData: { mode, control: controlBuffer, times: timesBuffer, rounds, pollMs: POLL_MS },
  });
  const exited = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const wake =
    kind === MESSAGE
      ? () => worker.postMessage('stop')
      : () => {
          Atomics.store(control, 1, 1);
          Atomics.notify(control, 1);
        };
  return { control, times, wake, done: () => exited };
}

/** Waits until the case's thread sleeps, waits `pauseMs` more, wakes it: µs until it ran. */
async function wakeOnce(c, round, pauseMs) {
  await waitFor(c.control, 0, 1);
  if (pauseMs > 0) await delay(pauseMs);
  const start = now();
  c.wake();
  await waitFor(c.control, 0, 2);
  const latency = micros(start, c.times[round]);
  Atomics.store(c.control, 0, 0); // lets it go on to its next round (or end)
  Atomics.notify(c.control, 0);
  return latency;
}

/** Warm wakes, round by round, then LONG_ROUNDS wakes after LONG_SLEEP_MS asleep. */
async function warmAndLong() {
  const warm = [OURS, FUTEX, MESSAGE, POLL];
  const long = [OURS, FUTEX, MESSAGE];
  const cases = new Map(warm.map((kind) => [kind, startCase(kind, ROUNDS + (long.includes(kind) ? LONG_ROUNDS : 0))]));
  const latencies = new Map(warm.map((kind) => [kind, []]));
  const longLatencies = new Map(long.map((kind) => [kind, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of rotate(warm, round)) {
      // Woken at a random moment of its wait: fair to the polling pattern.
      latencies.get(kind).push(await wakeOnce(cases.get(kind), round, 1 + Math.random() * POLL_MS));
    }
  }
  for (let round = ROUNDS; round < ROUNDS + LONG_ROUNDS; round++) {
    for (const kind of long) await waitFor(cases.get(kind).control, 0, 1);
    await delay(LONG_SLEEP_MS);
    for (const kind of rotate(long, round)) longLatencies.get(kind).push(await wakeOnce(cases.get(kind), round, 0));
  }
  await Promise.all([...cases.values()].map((c) => c.done()));
  return { latencies, longLatencies };
}

/** The first wake of fresh threads, kinds alternating; each thread is woken once and ends. */
async function fresh() {
  const kinds = [OURS, FUTEX, MESSAGE];
  const latencies = new Map(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < FRESH_ROUNDS; round++) {
    for (const kind of rotate(kinds, round)) {
      const c = startCase(kind, 1);
      latencies.get(kind).push(await wakeOnce(c, 0, 20));
      await c.done();
    }
  }
  return latencies;
}

export async function run() {
  const { latencies, longLatencies } = await warmAndLong();
  const freshLatencies = await fresh();
  const table = (title, map) => {
    const floor = spread(map.get(FUTEX));
    printTable(
      title,
      ['wake', 'n', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'p50 over the floor, µs'],
      [...map].map(([kind, values]) => {
        const s = spread(values);
        return [kind, values.length, ...s.cells, kind === FUTEX ? '' : fmt(s.p50 - floor.p50, 1)];
      }),
    );
  };
  table(
    `Wake latency of a sleeping thread (interleaved round by round; woken 1–${1 + POLL_MS} ms after it slept; process.hrtime)`,
    latencies,
  );
  table(`The same wakes after ${LONG_SLEEP_MS / 1000} s asleep (${LONG_ROUNDS} rounds)`, longLatencies);
  table(
    `The first wake of a fresh thread, 20 ms after it fell asleep (${FRESH_ROUNDS} threads of each kind, alternating; ours: its first ThreadInterruptedError)`,
    freshLatencies,
  );
  return [];
}
