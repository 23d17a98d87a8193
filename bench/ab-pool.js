// A/B of a ThreadPool cancel between builds of the package, in one process (not part of
// `npm run bench`: it compares checkouts, e.g. a branch and main):
//
//   node bench/ab-pool.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [SETTLE_MS] [CASE]
//
// Each ROOT is a checkout with a built dist/ (`git archive main | tar -x -C ../base`, then
// `npm run build` there); each build gets a pool of 1 on its own bench/workers/pool-tasks.js,
// which imports that build by name (a checkout older than crunchChecked there: copy the file in).
// A CPU-bound task runs, its signal aborts (`controller.abort()`, the default reason), then, by
// CASE (default next):
//   next: bench/pool.js's cancel: the task (crunch) returns as it sees its flag, and the next
//     trivial task is run at once: from abort() to that task's result;
//   checked-next: the same, the task (crunchChecked) throwing checkInterrupt()'s error;
//   checked-alone: crunchChecked, and no task after it: from abort() to the pool having taken the
//     worker's report of its end (its stats say no worker busy; looked at every millisecond, so the
//     main thread's CPU time is this case's figure).
// Each case also reports the main thread's CPU time from abort() to its end (Node 23.9+).
// ROUNDS (default 200): every round runs the case once per build, in an order that rotates, each
// after SETTLE_MS (default 20) of idling, as bench/pool.js's rounds are apart (its piscina rounds
// between ours), so that each cancel finds its path as cold as there. Timed on process.hrtime.
// Besides the p50/p90 of each build, the median of each round's ratio to the first build's: on a
// loaded machine the steadier figure.
// Limit: the builds share the process's registry (a registered global symbol): builds whose
// control-block layout differs cannot be compared here.
import os from 'node:os';
import {
  abOptions,
  buildsFromArgs,
  delay,
  fmt,
  isEntry,
  micros,
  now,
  printTable,
  quantile,
  rotate,
  spread,
  waitFor,
} from './lib.js';

async function startCase(root) {
  const { ThreadPool } = await import(new URL('dist/index.js', root).href);
  const pool = new ThreadPool(new URL('bench/workers/pool-tasks.js', root), { size: 1 });
  const warm = [];
  for (let i = 0; i < 2000; i++) warm.push(pool.run(i));
  await Promise.all(warm);
  return pool;
}

/** ms from abort() of a running CPU-bound task to the end CASE says, on a pool of 1. */
async function cancelThenNext(pool, kind) {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const cancelled = pool.run(control.buffer, {
    export: kind === 'next' ? 'crunch' : 'crunchChecked',
    signal: controller.signal,
  });
  const outcome = cancelled.then(
    () => {
      throw new Error('ab-pool: the cancelled task resolved');
    },
    () => {},
  );
  await waitFor(control, 0, 1);
  const cpuAtStart = process.threadCpuUsage?.();
  const start = now();
  controller.abort();
  if (kind === 'checked-alone') {
    while (pool.stats.busy !== 0) await delay(1);
  } else {
    const result = await pool.run(1);
    if (result !== 2) throw new Error(`ab-pool: the next task returned ${result}`);
  }
  const end = now();
  const cpu = cpuAtStart === undefined ? Number.NaN : cpuMicros(process.threadCpuUsage(cpuAtStart));
  await outcome;
  return { ms: micros(start, end) / 1e3, cpu };
}

const cpuMicros = ({ user, system }) => user + system;

const CASES = ['next', 'checked-next', 'checked-alone'];

async function main(builds, rounds, settleMs, kind) {
  const pools = new Map();
  for (const { label, root } of builds) pools.set(label, await startCase(root));
  const names = [...pools.keys()];
  // The first cancel compiles its path in each.
  for (const pool of pools.values()) await cancelThenNext(pool, kind);
  const samples = new Map(names.map((name) => [name, []]));
  const cpu = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of rotate(names, round % names.length)) {
      await delay(settleMs);
      const sample = await cancelThenNext(pools.get(name), kind);
      samples.get(name).push(sample.ms);
      cpu.get(name).push(sample.cpu);
    }
  }
  for (const pool of pools.values()) await pool.close();
  const base = samples.get(names[0]);
  const load = os.loadavg().map((l) => l.toFixed(2));
  printTable(
    `Cancel a running CPU-bound task (case ${kind}), ${process.version}, pool of 1: ${rounds} rounds interleaved, ${settleMs} ms idle before each (load average at the end: ${load.join(' ')})`,
    [
      'build',
      'n',
      'p50 ms',
      'p90',
      'p99',
      'max',
      `p50 / ${names[0]}'s`,
      `paired / ${names[0]}'s (median)`,
      'main thread CPU µs, p50 / p90',
    ],
    names.map((name) => {
      const values = samples.get(name);
      const s = spread(values, 3);
      const paired = quantile(
        values.map((value, i) => value / base[i]),
        0.5,
      );
      const c = spread(cpu.get(name), 0);
      return [
        name,
        values.length,
        ...s.cells,
        fmt(s.p50 / spread(base).p50, 3),
        fmt(paired, 3),
        `${c.cells[0]} / ${c.cells[1]}`,
      ];
    }),
    [
      kind === 'checked-alone'
        ? 'checked-alone: the pool is looked at every millisecond (its times are within 1 ms); the CPU column is the figure.'
        : '',
      'Main thread CPU: from abort() to the end of the case (process.threadCpuUsage, Node 23.9+; NaN before).',
    ].filter(Boolean),
  );
  return samples;
}

if (isEntry(import.meta.url)) {
  const args = process.argv.slice(2);
  const builds = buildsFromArgs(args);
  const { numbers, word } = abOptions(args);
  const [rounds = 200, settleMs = 20] = numbers;
  const kind = word ?? 'next';
  if (builds.length < 1 || !CASES.includes(kind)) {
    console.error(`usage: node bench/ab-pool.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [SETTLE_MS] [${CASES.join('|')}]`);
    process.exit(2);
  }
  await main(builds, rounds, settleMs, kind);
}
