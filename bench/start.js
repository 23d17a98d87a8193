// Goal: new Thread(…).start() → the target's first instruction within 1.1× a bare ESM
// new Worker(url) → its module's first instruction, both read on process.hrtime (the clock all
// threads share; performance.now() has a time origin per thread).
//   ours: workers/start-ours-named.js, whose default export reads the clock first; it imports
//     'graceful-threads' by name, as a target that calls checkInterrupt does, so Node's package
//     resolver runs in the thread (a bare worker importing no package does not: that is ours to pay);
//   the floor: workers/start-bare.js, whose module reads the clock first (it imports
//     node:worker_threads for its workerData, which ours receives as arguments).
// So the difference is what the library loads and does, and what importing it costs a target.
// Warm: ROUNDS of each, interleaved (ours, bare, bare, ours, …), each thread ended before the
// next starts. First: FRESH_PROCESSES child processes, each starting one of each, in
// alternating order.
import { Worker } from 'node:worker_threads';
import { Thread } from 'graceful-threads';
import { delay, fmt, goal, isEntry, micros, now, printTable, runChild, spread } from './lib.js';

const ROUNDS = 30;
const FRESH_PROCESSES = 20;
const GOAL_RATIO = 1.1;
const PAUSE_MS = 10; // between samples, so the previous thread's teardown is over
const oursUrl = new URL('./workers/start-ours-named.js', import.meta.url);
const bareUrl = new URL('./workers/start-bare.js', import.meta.url);

/** ms from new Thread() to the target's first instruction. */
async function startOurs() {
  const times = new BigInt64Array(new SharedArrayBuffer(8));
  const start = now();
  const thread = new Thread(oursUrl, { args: [times.buffer] }).start();
  await thread.join();
  return micros(start, times[0]) / 1e3;
}

/** ms from new Worker() to the module's first instruction. */
async function startBare() {
  const times = new BigInt64Array(new SharedArrayBuffer(8));
  const start = now();
  const worker = new Worker(bareUrl, { workerData: times.buffer });
  await new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  return micros(start, times[0]) / 1e3;
}

const measure = { ours: startOurs, bare: startBare };

export async function run() {
  const warm = { ours: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      await delay(PAUSE_MS);
      warm[kind].push(await measure[kind]());
    }
  }
  const first = { ours: [], bare: [] };
  for (let i = 0; i < FRESH_PROCESSES; i++) {
    const result = await runChild(import.meta.url, [i % 2 === 0 ? 'ours,bare' : 'bare,ours']);
    first.ours.push(result.ours);
    first.bare.push(result.bare);
  }
  const verdicts = [];
  const pick = (s) => [s.cells[0], s.cells[1], s.cells[3]]; // p50, p90, max
  const row = (label, what, samples) => {
    const ours = spread(samples.ours, 2);
    const bare = spread(samples.bare, 2);
    const ratio = ours.p50 / bare.p50;
    const verdict = goal(`start, ${label}`, ratio <= GOAL_RATIO, `p50 ≤ ${GOAL_RATIO}× bare`, `${fmt(ratio, 2)}×`);
    verdicts.push(verdict);
    return [
      what,
      samples.ours.length,
      ...pick(ours),
      ...pick(bare),
      fmt(ours.p50 - bare.p50, 2),
      fmt(ratio, 2),
      verdict.cell,
    ];
  };
  printTable(
    "start → the target's first instruction, ms, beside a bare ESM Worker → its module's first instruction",
    ['start', 'n', 'ours p50', 'p90', 'max', 'bare p50', 'p90', 'max', 'p50 over bare, ms', '× bare', 'goal'],
    [
      row('warm', 'warm, interleaved', warm),
      row(
        'first in a fresh process',
        `first start in a fresh process (${FRESH_PROCESSES} processes, order alternating)`,
        first,
      ),
    ],
  );
  return verdicts;
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') {
  const result = {};
  for (const kind of process.argv[3].split(',')) result[kind] = await measure[kind]();
  console.log(JSON.stringify(result));
}
