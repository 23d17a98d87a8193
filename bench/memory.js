// Goal: an idle thread of ours costs at most 0.3 MiB of RSS more than an idle bare ESM Worker.
// Each measurement is a fresh child process (run with no flag: see gcWithoutFlag) that starts
// one idle thread of one kind, then THREADS more, all left idle, and reports
//   first: RSS with the first one idle - RSS before (what starting any thread of that kind
//     costs a process once: Node's worker machinery paged in, the registry... plus one thread);
//   per thread: (RSS with all idle - RSS with the first one idle) / THREADS, the goal's figure.
// The first thread stays alive: memory a finished thread frees stays in the process (malloc
// keeps it) and would be reused by the next ones, which would make them look cheaper.
// Processes alternate kinds round by round, PROCESSES of each; the table shows the medians (a
// process's figure moves in steps of about 0.2 MiB, V8 committing heap pages, so one process
// proves little).
//   ours: a Thread asleep in sleep(Infinity) whose target imports the package by name, as users
//     write it (workers/ours.js);
//   ours, package by URL: the same target importing dist/index.js by its URL (workers/ours-url.js).
//     The difference from the row above is Node's: resolving a package name compiles Node's
//     package resolver in the thread (Node 24: +47 KB of bytecode, +0.35 MiB of RSS); a target
//     importing any package pays it, a bare worker importing nothing does not;
//   the floor: a bare ESM Worker asleep in Atomics.wait (workers/bare.js), importing nothing;
//   a second floor, reported beside it (the goal stays against the first): the same bare worker
//     resolving the package name 'graceful-threads' first (import.meta.resolve, which loads
//     nothing), so that Node's package resolver is compiled in it as in ours.
// Every process imports graceful-threads before the first reading, so only what threads cost is
// in the figures.
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Thread } from 'graceful-threads';
import { delay, fmt, goal, isEntry, median, printTable, rotate, runChild, waitAtLeast } from './lib.js';

const THREADS = 20;
const PROCESSES = 4;
const GOAL_MIB = 0.3;
const MIB = 1024 * 1024;
const KINDS = ['ours', 'ours-url', 'bare', 'bare-resolve'];
const targets = {
  ours: new URL('./workers/ours.js', import.meta.url),
  'ours-url': new URL('./workers/ours-url.js', import.meta.url),
};
const bareUrl = new URL('./workers/bare.js', import.meta.url);

/**
 * gc() for the readings, taken at run time with the flag set back at once: not --expose-gc on
 * the command line, under which every worker is not the one users get (the flag changes what
 * V8 does in each isolate: on Node 24 an idle bare worker took 0.85 MiB less, and each thread
 * internalized thousands more strings, which pushed ours over the doubling of the isolate's
 * string table, +0.25 MiB, where without the flag it stays below).
 */
function gcWithoutFlag() {
  // Bun's engine is not V8 (npm run bench:bun): it has a gc of its own.
  if (typeof globalThis.Bun?.gc === 'function') return () => globalThis.Bun.gc(true);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  v8.setFlagsFromString('--no-expose-gc');
  return gc;
}

let gc;

function settledRss() {
  gc ??= gcWithoutFlag();
  gc();
  gc();
  return process.memoryUsage.rss();
}

/** Starts `count` idle threads of `kind`; resolves, once all are idle, to a function ending them. */
async function startIdle(kind, count) {
  const controlBuffer = new SharedArrayBuffer(16);
  const control = new Int32Array(controlBuffer);
  let stop;
  if (kind === 'bare' || kind === 'bare-resolve') {
    const mode = kind === 'bare' ? 'waitThenExit' : 'resolveThenWait';
    const workers = Array.from(
      { length: count },
      () => new Worker(bareUrl, { workerData: { mode, control: controlBuffer } }),
    );
    const exited = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    stop = () => {
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
      return Promise.all(exited);
    };
  } else {
    const threads = Array.from({ length: count }, () =>
      new Thread(targets[kind], { export: 'sleepUntilInterrupted', args: [controlBuffer] }).start(),
    );
    stop = () => {
      for (const thread of threads) thread.interrupt();
      return Promise.all(threads.map((thread) => thread.join()));
    };
  }
  await waitAtLeast(control, 2, count);
  await delay(300); // what start-up leaves behind settles
  return stop;
}

/** In a child process: MiB of RSS of the first idle thread of `kind`, and per idle thread after it. */
async function measureKind(kind, count) {
  await delay(100);
  const before = settledRss();
  const stopFirst = await startIdle(kind, 1);
  const first = settledRss();
  const stopRest = await startIdle(kind, count);
  const all = settledRss();
  await stopRest();
  await stopFirst();
  return { first: (first - before) / MIB, perThread: (all - first) / count / MIB };
}

export async function run() {
  const samples = Object.fromEntries(KINDS.map((kind) => [kind, { first: [], perThread: [] }]));
  for (let i = 0; i < PROCESSES; i++) {
    for (const kind of rotate(KINDS, i)) {
      const result = await runChild(import.meta.url, [kind, THREADS]);
      samples[kind].first.push(result.first);
      samples[kind].perThread.push(result.perThread);
    }
  }
  const bareFirst = median(samples.bare.first);
  const verdicts = [];
  const row = (label, kind, withGoal, floor = 'bare') => {
    const ours = median(samples[kind].perThread);
    const bare = median(samples[floor].perThread);
    const over = ours - bare;
    const cells = [
      label,
      fmt(ours, 2),
      fmt(bare, 2),
      fmt(over, 2),
      samples[kind].perThread.map((v) => fmt(v, 2)).join(' '),
      fmt(median(samples[kind].first) - median(samples[floor].first), 2),
    ];
    if (!withGoal) return [...cells, 'reported'];
    const verdict = goal(
      'memory: RSS per idle thread',
      over <= GOAL_MIB,
      `≤ ${GOAL_MIB} MiB over bare`,
      `${fmt(over, 2)} MiB`,
    );
    verdicts.push(verdict);
    return [...cells, verdict.cell];
  };
  printTable(
    `RSS per idle thread, MiB (per fresh process: one idle thread, then ${THREADS} more; medians of ${PROCESSES} processes of each kind, alternating)`,
    [
      'RSS per idle thread',
      'ours MiB',
      'bare MiB',
      'ours − bare, MiB',
      'each process (ours)',
      'first thread, ours − bare, MiB',
      'goal',
    ],
    [
      row("asleep: sleep(Infinity), target imports 'graceful-threads' / Atomics.wait", 'ours', true),
      row('the same, target imports dist/index.js by URL', 'ours-url', false),
      row(
        "asleep, target imports 'graceful-threads' / Atomics.wait after resolving that name (bare MiB: this floor)",
        'ours',
        false,
        'bare-resolve',
      ),
    ],
    [
      `bare: each process ${samples.bare.perThread.map((v) => fmt(v, 2)).join(' ')} MiB per thread; first bare thread ${fmt(bareFirst, 2)} MiB (one-time costs included)`,
      "'graceful-threads' by name vs by URL: Node compiles its package resolver in each thread that resolves a package name",
      `bare resolving a package name: each process ${samples['bare-resolve'].perThread.map((v) => fmt(v, 2)).join(' ')} MiB per thread (the third row's floor: what any thread importing a package by name pays)`,
    ],
  );
  return verdicts;
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') {
  console.log(JSON.stringify(await measureKind(process.argv[3], Number(process.argv[4]))));
}
