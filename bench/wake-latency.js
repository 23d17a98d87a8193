// Interrupt-to-wake latency of a thread asleep in sleep(Infinity): from the moment interrupt()
// is called to the moment the thread runs again, p50 and p99, beside a bare Atomics.notify
// wake (the floor) and the hand-rolled postMessage('stop') to a thread idle in its event loop.
import { Thread } from 'graceful-threads';
import { fmt, printTable, processClockMs, quantile } from './lib.js';
import { POLL_MS } from './wake-worker.js';

const ROUNDS = 300;
const POLLING_ROUNDS = 40; // each takes up to the polling interval
const worker = new URL('./wake-worker.js', import.meta.url);

async function waitState(control, value) {
  while (Atomics.load(control, 0) !== value) {
    const result = Atomics.waitAsync(control, 0, Atomics.load(control, 0), 50);
    if (result.async) await result.value;
  }
}

async function measure(exportName, wake, rounds) {
  const controlBuffer = new SharedArrayBuffer(8);
  const control = new Int32Array(controlBuffer);
  const wakeTimes = new Float64Array(new SharedArrayBuffer(8 * rounds));
  const thread = new Thread(worker, { export: exportName, args: [controlBuffer, wakeTimes, rounds] }).start();
  const latencies = [];
  for (let i = 0; i < rounds; i++) {
    await waitState(control, 1);
    // Wake at a random moment of its wait (fair to the polling pattern); not measured.
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * POLL_MS));
    const start = processClockMs();
    wake(thread, control);
    await waitState(control, 2);
    latencies.push((wakeTimes[i] - start) * 1000);
    Atomics.store(control, 0, 0);
    Atomics.notify(control, 0);
  }
  await thread.join();
  return latencies;
}

export async function run() {
  const cases = [
    ['thread.interrupt() → sleep() throws', 'sleeper', (thread) => thread.interrupt()],
    [
      'Atomics.notify → Atomics.wait (floor)',
      'rawFutex',
      (_, control) => {
        Atomics.store(control, 1, 1);
        Atomics.notify(control, 1);
      },
    ],
    [
      "worker.postMessage('stop') → idle loop (hand-rolled)",
      'messageStop',
      (thread) => thread.worker.postMessage('stop'),
    ],
  ];
  const polling = [
    `shared flag polled between ${POLL_MS} ms sleeps (hand-rolled)`,
    'pollingSleeper',
    (_, control) => Atomics.store(control, 1, 1),
  ];
  const rows = [];
  for (const [name, exportName, wake] of [...cases, polling]) {
    const latencies = await measure(exportName, wake, exportName === 'pollingSleeper' ? POLLING_ROUNDS : ROUNDS);
    rows.push([
      name,
      fmt(quantile(latencies, 0.5), 1),
      fmt(quantile(latencies, 0.99), 1),
      fmt(Math.max(...latencies), 1),
    ]);
  }
  printTable(
    `Interrupt-to-wake latency of a sleeping thread (${ROUNDS} wakes each, ${POLLING_ROUNDS} when polling; µs)`,
    ['wake', 'p50 µs', 'p99 µs', 'max µs'],
    rows,
  );
  return rows;
}
