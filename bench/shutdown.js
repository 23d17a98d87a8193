// Goal: SIGINT → process exit with 8 and with 64 idle threads (empty cleanup) no slower than a
// program that, on SIGINT, awaits `worker.terminate()` of each of its workers and then exits.
//   ours: a program that starts N Threads and has no SIGINT code: the library's shutdown
//     interrupts them, waits for them to end and exits with 130;
//   the baseline: N bare Workers in Atomics.wait; its SIGINT listener awaits terminate() of
//     each, then calls process.exit(130).
// Each sample is a fresh child process, timed from the kill() to the child's 'exit' event on the
// parent's monotonic clock (process.hrtime); rounds interleave ours and the baseline. Both kinds
// of child say "ready" SETTLE_MS after their last thread counted itself in: the threads are then
// idle, as the goal has them (a Thread compiles its exit path after counting in, before it first
// blocks, and its parent finishes its own start-up work; with 64 threads on 2 cores some of that
// was still running when the kill came, and was timed as shutdown).
// Also: what a stuck thread costs a shutdown: shutdown({ graceMs: 0 }) of one thread spinning in
// a critical section (interrupt, its stack taken through the inspector, terminate), beside
// `await worker.terminate()` of a bare spinning worker, in the same process.
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { shutdown, Thread } from 'graceful-threads';
import { delay, fmt, goal, isEntry, micros, now, printTable, spread, waitAtLeast } from './lib.js';

const ROUNDS = 7;
const COUNTS = [8, 64];
const STACK_ROUNDS = 15;
const SETTLE_MS = 250;
const oursUrl = new URL('./workers/shutdown-ours.js', import.meta.url);
const bareUrl = new URL('./workers/shutdown-bare.js', import.meta.url);

/** One child process with `count` threads of `kind`: ms from SIGINT to its exit. */
function signalToExit(kind, count) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--child', kind, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let killedAt;
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (chunk) => {
      if (killedAt === undefined && String(chunk).includes('ready')) {
        killedAt = now();
        child.kill('SIGINT');
      }
    });
    child.on('exit', (code, signal) => {
      const end = now();
      clearTimeout(guard);
      if (code !== 130) reject(new Error(`shutdown bench: ${kind} exited with ${code ?? signal}`));
      else resolve(micros(killedAt, end) / 1e3);
    });
  });
}

/** ms for shutdown({ graceMs: 0 }) of one stuck thread, stack included. */
async function stuckOurs() {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Thread(oursUrl, { export: 'stuck', args: [counter.buffer] }).start();
  await waitAtLeast(counter, 0, 1);
  const start = now();
  const report = await shutdown({ graceMs: 0 });
  const end = now();
  if (!report.terminated[0]?.stack.includes('spinning')) throw new Error('shutdown bench: no stack taken');
  await thread.join().catch(() => {});
  return micros(start, end) / 1e3;
}

/** ms for terminate() of one bare spinning worker. */
async function stuckBare() {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(bareUrl, { workerData: { counter: counter.buffer, spin: true } });
  await waitAtLeast(counter, 0, 1);
  const start = now();
  await worker.terminate();
  return micros(start, now()) / 1e3;
}

export async function run() {
  const samples = {};
  for (const count of COUNTS) samples[count] = { ours: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const count of COUNTS) {
      for (const kind of round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
        samples[count][kind].push(await signalToExit(kind, count));
      }
    }
  }
  const stuck = { ours: [], bare: [] };
  for (let round = 0; round < STACK_ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      stuck[kind].push(await (kind === 'ours' ? stuckOurs() : stuckBare()));
    }
  }
  const verdicts = [];
  const rows = COUNTS.map((count) => {
    const ours = spread(samples[count].ours, 1);
    const bare = spread(samples[count].bare, 1);
    const ratio = ours.p50 / bare.p50;
    const verdict = goal(`SIGINT → exit, ${count} threads`, ratio <= 1, '≤ 1.0× terminate-each', `${fmt(ratio, 2)}×`);
    verdicts.push(verdict);
    return [
      `${count} idle threads`,
      ROUNDS,
      ours.cells[0],
      ours.cells[1],
      bare.cells[0],
      bare.cells[1],
      `${fmt(ratio, 2)}×`,
      verdict.cell,
    ];
  });
  printTable(
    'SIGINT → process exit, ms (a fresh child process per sample, interleaved)',
    ['threads', 'n', 'ours p50', 'p90', 'terminate-each p50', 'p90', 'ratio p50', 'goal'],
    rows,
  );
  const ours = spread(stuck.ours, 1);
  const bare = spread(stuck.bare, 1);
  printTable(
    'A stuck thread: shutdown({ graceMs: 0 }) with its stack taken, beside terminate() alone, ms',
    ['case', 'n', 'p50', 'p90', 'max'],
    [
      [
        'shutdown(): interrupt, stack through the inspector, terminate',
        STACK_ROUNDS,
        ours.cells[0],
        ours.cells[1],
        ours.cells[3],
      ],
      [
        '`await worker.terminate()` of a bare spinning worker',
        STACK_ROUNDS,
        bare.cells[0],
        bare.cells[1],
        bare.cells[3],
      ],
      ['the stack, about (p50 difference)', '', fmt(ours.p50 - bare.p50, 1), '', ''],
    ],
  );
  return verdicts;
}

/** The child: starts `count` threads, says "ready" once all wait, then waits for SIGINT. */
async function child(kind, count) {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const workers = [];
  for (let i = 0; i < count; i++) {
    if (kind === 'ours') new Thread(oursUrl, { export: 'idle', args: [counter.buffer] }).start();
    else workers.push(new Worker(bareUrl, { workerData: { counter: counter.buffer } }));
  }
  if (kind === 'bare') {
    process.on('SIGINT', async () => {
      await Promise.all(workers.map((worker) => worker.terminate()));
      process.exit(130);
    });
  }
  await waitAtLeast(counter, 0, count, 120_000);
  await delay(SETTLE_MS);
  console.log('ready');
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
