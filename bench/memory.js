// Goal: an idle thread of ours costs at most 0.3 MiB of RSS more than an idle bare ESM Worker.
// Each measurement is a fresh child process (run with --expose-gc) that starts THREADS idle
// threads of one kind and reports (RSS with them idle − RSS before) / THREADS. Processes
// alternate (ours, bare, bare, ours, …), PAIRS of each; the table shows the medians.
//   ours: a Thread asleep in sleep(Infinity) (workers/ours.js, which imports the library);
//   the floor: a bare ESM Worker asleep in Atomics.wait (workers/bare.js).
// Both kinds of process import graceful-threads before the first reading, so only what a
// thread costs is in the difference.
import { Worker } from 'node:worker_threads';
import { Thread } from 'graceful-threads';
import { delay, fmt, goal, isEntry, median, printTable, runChild, waitAtLeast } from './lib.js';

const THREADS = 10;
const PAIRS = 3;
const GOAL_MIB = 0.3;
const MIB = 1024 * 1024;
const oursUrl = new URL('./workers/ours.js', import.meta.url);
const bareUrl = new URL('./workers/bare.js', import.meta.url);

function settledRss() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage.rss();
}

/** In a child process: MiB of RSS per idle thread of `kind`. */
async function perThread(kind, count) {
  const controlBuffer = new SharedArrayBuffer(16);
  const control = new Int32Array(controlBuffer);
  await delay(100);
  const before = settledRss();
  let stop;
  if (kind === 'ours') {
    const threads = Array.from({ length: count }, () =>
      new Thread(oursUrl, { export: 'sleepUntilInterrupted', args: [controlBuffer] }).start(),
    );
    stop = () => {
      for (const thread of threads) thread.interrupt();
      return Promise.all(threads.map((thread) => thread.join()));
    };
  } else {
    const workers = Array.from(
      { length: count },
      () => new Worker(bareUrl, { workerData: { mode: 'waitThenExit', control: controlBuffer } }),
    );
    const exited = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    stop = () => {
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
      return Promise.all(exited);
    };
  }
  await waitAtLeast(control, 2, count);
  await delay(300); // what start-up leaves behind settles
  const after = settledRss();
  await stop();
  return (after - before) / count / MIB;
}

export async function run() {
  const samples = { ours: [], bare: [] };
  for (let i = 0; i < PAIRS; i++) {
    for (const kind of i % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      const result = await runChild(import.meta.url, [kind, THREADS], ['--expose-gc']);
      samples[kind].push(result.mibPerThread);
    }
  }
  const ours = median(samples.ours);
  const bare = median(samples.bare);
  const over = ours - bare;
  const verdict = goal(
    'memory: RSS per idle thread',
    over <= GOAL_MIB,
    `≤ ${GOAL_MIB} MiB over bare`,
    `${fmt(over, 2)} MiB`,
  );
  printTable(
    `RSS per idle thread, MiB (${THREADS} idle threads per fresh process, median of ${PAIRS} processes of each kind, alternating)`,
    ['RSS per idle thread', 'ours MiB', 'bare MiB', 'ours − bare, MiB', '× bare', 'each process: ours / bare', 'goal'],
    [
      [
        'asleep: sleep(Infinity) / Atomics.wait',
        fmt(ours, 2),
        fmt(bare, 2),
        fmt(over, 2),
        fmt(ours / bare, 2),
        `${samples.ours.map((v) => fmt(v, 2)).join(' ')} / ${samples.bare.map((v) => fmt(v, 2)).join(' ')}`,
        verdict.cell,
      ],
    ],
  );
  return [verdict];
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') {
  const kind = process.argv[3];
  const count = Number(process.argv[4]);
  console.log(JSON.stringify({ mibPerThread: await perThread(kind, count) }));
}
