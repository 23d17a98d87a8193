// ThreadPool beside piscina (a dev dependency), measured in the same run, round by round in
// alternating order, each pool created once and warmed up (the first round's figures are
// reported apart only where they differ in kind: creation is not measured).
//   cancel: a CPU-bound task running on a pool of 1 is cancelled through its AbortSignal, and
//     the next (trivial) task completes: from abort() to that task's result. Ours interrupts the
//     task, which stops and leaves its worker; piscina terminates the worker and starts another,
//     which loads the module again (the same tasks without graceful-threads, as piscina's users
//     write them: ./workers/pool-tasks-bare.js). Goal: ours at least 100× faster (p50). After each round,
//     piscina's terminated worker is awaited until it has exited, and SETTLE_MS more, so that its
//     teardown in the background does not share the CPUs with the next round. 100 rounds: on a
//     loaded 2-core machine the p50 of 40 moved by 15% from run to run.
//   throughput: 100,000 trivial tasks ((x) => x + 1) submitted at once to a pool of 2, until the
//     last result. Goal: at least piscina's tasks/s (median of the rounds).
//   latency: one trivial task on an idle pool of 2 (the workers idle for 2 ms before), from run()
//     to its result. Reported: p50, p90, p99.
// All times on process.hrtime.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { ThreadPool } from 'graceful-threads';
import { delay, fmt, goal, micros, now, printTable, spread, waitFor } from './lib.js';

const { Piscina } = createRequire(import.meta.url)('piscina');

const CANCEL_ROUNDS = 100;
const THROUGHPUT_ROUNDS = 4;
const THROUGHPUT_TASKS = 100_000;
const LATENCY_SAMPLES = 400;
const IDLE_MS = 2;
const SETTLE_MS = 20;
const tasksUrl = new URL('./workers/pool-tasks.js', import.meta.url);
// The same tasks without graceful-threads, which piscina's workers have no use for (see there).
const bareTasksUrl = new URL('./workers/pool-tasks-bare.js', import.meta.url);

function ours(size) {
  return {
    run: (pool, task, options) => pool.run(task, options),
    pool: new ThreadPool(tasksUrl, { size }),
    close: (pool) => pool.close(),
    workers: () => [],
  };
}

function piscina(size) {
  return {
    run: (pool, task, options) => pool.run(task, options),
    pool: new Piscina({ filename: bareTasksUrl.href, minThreads: size, maxThreads: size, idleTimeout: 60_000 }),
    close: (pool) => pool.destroy(),
    workers: (pool) => pool.threads,
  };
}

const sides = { ours, piscina };

/** ms from abort() of a running CPU-bound task to the next task's result, on a pool of 1. */
async function cancelThenNext(side) {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const cancelled = side.run(side.pool, control.buffer, {
    name: 'crunch',
    export: 'crunch',
    signal: controller.signal,
  });
  cancelled.catch(() => {});
  const workers = [...side.workers(side.pool)];
  await waitFor(control, 0, 1);
  const start = now();
  controller.abort();
  const result = await side.run(side.pool, 1);
  const end = now();
  if (result !== 2) throw new Error(`pool bench: the next task returned ${result}`);
  await cancelled.then(
    () => {
      throw new Error('pool bench: the cancelled task resolved');
    },
    () => {},
  );
  // Piscina's terminated worker is torn down in the background: not during the next round.
  const gone = workers.filter((worker) => !side.workers(side.pool).includes(worker));
  await Promise.race([Promise.all(gone.map(exited)), delay(5000)]);
  await delay(SETTLE_MS);
  return micros(start, end) / 1e3;
}

/** Resolves once a Node Worker has exited (its threadId is -1 from then on). */
function exited(worker) {
  return worker.threadId === -1 ? Promise.resolve() : once(worker, 'exit');
}

/** Tasks a second: THROUGHPUT_TASKS trivial tasks at once. */
async function throughput(side) {
  const start = now();
  const results = [];
  for (let i = 0; i < THROUGHPUT_TASKS; i++) results.push(side.run(side.pool, i));
  const values = await Promise.all(results);
  const end = now();
  if (values[THROUGHPUT_TASKS - 1] !== THROUGHPUT_TASKS) throw new Error('pool bench: wrong result');
  return THROUGHPUT_TASKS / (micros(start, end) / 1e6);
}

/** µs from run() to the result of one trivial task, the pool idle before. */
async function latency(side) {
  await delay(IDLE_MS);
  const start = now();
  await side.run(side.pool, 1);
  return micros(start, now());
}

/** Runs `measure` on both sides, `rounds` times, alternating which goes first. */
async function interleaved(size, rounds, measure, warmUp) {
  const pools = { ours: sides.ours(size), piscina: sides.piscina(size) };
  const samples = { ours: [], piscina: [] };
  try {
    for (const side of Object.values(pools)) await warmUp(side);
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 === 0 ? ['ours', 'piscina'] : ['piscina', 'ours']) {
        samples[name].push(await measure(pools[name]));
      }
    }
  } finally {
    for (const side of Object.values(pools)) await side.close(side.pool);
  }
  return samples;
}

const warmTasks = async (side) => {
  const results = [];
  for (let i = 0; i < 2000; i++) results.push(side.run(side.pool, i));
  await Promise.all(results);
};

export async function run() {
  const verdicts = [];
  const cancel = await interleaved(1, CANCEL_ROUNDS, cancelThenNext, async (side) => {
    await warmTasks(side);
    await cancelThenNext(side); // the first cancel compiles its path in both
  });
  const oursCancel = spread(cancel.ours, 3);
  const theirsCancel = spread(cancel.piscina, 2);
  const speedup = theirsCancel.p50 / oursCancel.p50;
  const cancelVerdict = goal(
    'pool: cancel + next task',
    speedup >= 100,
    '≥ 100× faster than piscina',
    `${fmt(speedup, 0)}×`,
  );
  verdicts.push(cancelVerdict);

  const through = await interleaved(2, THROUGHPUT_ROUNDS, throughput, warmTasks);
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const ratio = median(through.ours) / median(through.piscina);
  const throughputVerdict = goal('pool: throughput, 100k trivial tasks', ratio >= 1, '≥ piscina', `${fmt(ratio, 2)}×`);
  verdicts.push(throughputVerdict);

  const lat = await interleaved(2, LATENCY_SAMPLES, latency, warmTasks);
  const oursLat = spread(lat.ours, 1);
  const theirsLat = spread(lat.piscina, 1);

  printTable(
    'ThreadPool beside piscina 5.3.2, same run, rounds interleaved',
    ['case', 'n', 'ours p50', 'p90', 'p99', 'piscina p50', 'p90', 'p99', 'goal'],
    [
      [
        'cancel a running CPU-bound task + next task, ms (pool of 1)',
        CANCEL_ROUNDS,
        ...oursCancel.cells.slice(0, 3),
        ...theirsCancel.cells.slice(0, 3),
        `${cancelVerdict.cell}: ${fmt(speedup, 0)}×`,
      ],
      [
        `one task on an idle pool of 2, µs (idle ${IDLE_MS} ms before)`,
        LATENCY_SAMPLES,
        ...oursLat.cells.slice(0, 3),
        ...theirsLat.cells.slice(0, 3),
        `reported: p50 ${fmt(oursLat.p50 / theirsLat.p50, 2)}× piscina's`,
      ],
    ],
  );
  printTable(
    `Throughput: ${THROUGHPUT_TASKS.toLocaleString('en')} trivial tasks at once on a pool of 2, tasks/s`,
    ['round', 'ours', 'piscina'],
    [
      ...through.ours.map((value, i) => [i + 1, fmt(value, 0), fmt(through.piscina[i], 0)]),
      ['median', fmt(median(through.ours), 0), fmt(median(through.piscina), 0)],
    ],
    [`goal: ${throughputVerdict.cell}, measured ${fmt(ratio, 2)}× piscina's`],
  );
  return verdicts;
}
