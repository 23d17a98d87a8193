// Goal: interrupt() → join() settled within 0.3 ms (p50) of the bare floor, the first join in
// a fresh process included.
//   ours: a Thread asleep in sleep(Infinity); thread.interrupt(), then join() settles (the
//     uncaught ThreadInterruptedError ends it);
//   the floor: a bare ESM Worker asleep in Atomics.wait; Atomics.notify, it wakes, its module
//     ends, and code awaiting its 'exit' event resumes.
// Both are read where the awaiting code resumes, so both include what Node runs between.
// Warm: ROUNDS of each, interleaved (ours, bare, bare, ours, …), one fresh thread per sample.
// First: FRESH_PROCESSES child processes of each, alternating, each measuring one join, the first
// in it: a second join in the same process, even of the other kind, found Node's worker-exit and
// stdio code compiled by the first (p50 0.8-0.9 ms less on Node 26), so the one measured second was
// flattered. All times on process.hrtime.
import { Thread } from 'graceful-threads';
import {
  delay,
  fmt,
  goal,
  isEntry,
  joinBareWorker,
  micros,
  now,
  printTable,
  runChild,
  spread,
  waitFor,
} from './lib.js';

const ROUNDS = 50;
const FRESH_PROCESSES = 20;
const SETTLE_MS = 20; // after the thread says it sleeps, so start-up work is over
const GOAL_MS = 0.3;
const oursUrl = new URL('./workers/ours.js', import.meta.url);
const bareUrl = new URL('./workers/bare.js', import.meta.url);

/** ms from interrupt() to join() settled. */
async function joinOurs() {
  const controlBuffer = new SharedArrayBuffer(16);
  const control = new Int32Array(controlBuffer);
  const thread = new Thread(oursUrl, { export: 'sleepUntilInterrupted', args: [controlBuffer] }).start();
  await waitFor(control, 0, 1);
  await delay(SETTLE_MS);
  const start = now();
  thread.interrupt();
  const end = await thread.join().then(() => now());
  if (thread.state !== 'interrupted') throw new Error(`join-latency: the thread ended ${thread.state}`);
  return micros(start, end) / 1e3;
}

/** ms from Atomics.notify to the bare worker's 'exit'. */
const joinBare = () => joinBareWorker(bareUrl, SETTLE_MS);

const measure = { ours: joinOurs, bare: joinBare };

export async function run() {
  const warm = { ours: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) warm[kind].push(await measure[kind]());
  }
  const first = { ours: [], bare: [] };
  for (let i = 0; i < FRESH_PROCESSES; i++) {
    for (const kind of i % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      first[kind].push((await runChild(import.meta.url, [kind]))[kind]);
    }
  }
  const verdicts = [];
  const pick = (s) => [s.cells[0], s.cells[1], s.cells[3]]; // p50, p90, max: too few samples for a p99
  const row = (label, what, samples) => {
    const ours = spread(samples.ours, 2);
    const bare = spread(samples.bare, 2);
    const over = ours.p50 - bare.p50;
    const verdict = goal(`join, ${label}`, over <= GOAL_MS, `p50 ≤ ${GOAL_MS} ms over bare`, `${fmt(over, 2)} ms`);
    verdicts.push(verdict);
    return [what, samples.ours.length, ...pick(ours), ...pick(bare), fmt(over, 2), verdict.cell];
  };
  printTable(
    'interrupt() → join() settled, ms, beside a bare Worker woken from Atomics.wait, awaited on its exit',
    ['join', 'n', 'ours p50', 'p90', 'max', 'bare p50', 'p90', 'max', 'p50 over bare, ms', 'goal'],
    [
      row('warm', `warm, interleaved (a fresh thread each, ${SETTLE_MS} ms after it slept)`, warm),
      row(
        'first in a fresh process',
        `first join in a fresh process (${FRESH_PROCESSES} processes each, one join in each)`,
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
