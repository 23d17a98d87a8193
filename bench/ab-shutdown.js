// A/B of SIGINT → process exit (bench/shutdown.js's first table) between builds of the package,
// beside the terminate-each baseline, in the same run (not part of `npm run bench`: it compares
// checkouts, e.g. a branch and main):
//
//   node bench/ab-shutdown.js LABEL=ROOT [LABEL=ROOT...] [ROUNDS] [COUNTS]
//
// Each ROOT is a checkout with a built dist/ and bench/workers/shutdown-ours.js (whose import of
// 'graceful-threads' resolves to that checkout's own dist/). ROUNDS (default 15) rounds; each
// round runs, for each count in COUNTS (default 8,64), one fresh child process per build and one
// of the baseline, in an order that rotates round by round. Timed from the kill() to the child's
// 'exit' on the parent's process.hrtime. Each child prints, in its 'exit' event, a line
// `stamps {...}` of process.hrtime readings (the same clock in every process on Linux): its
// signal listener and exit call (the baseline's), its 'exit' event, and what a build instrumented
// by hand adds to globalThis.__st; shown as ms after the kill, p50 per build. And the main
// thread's CPU time from "ready" to its 'exit' event, in ms (Node 23.9+: process.threadCpuUsage).
// GT_OURS_TERMINATE=1 adds a case: the first build's threads, stopped as the baseline stops its
// workers (terminate() each, then exit), which separates what a thread of the package costs to
// tear down from what the shutdown does. GT_CHILD_ARGS: Node options for the children.
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { buildsFromArgs, fmt, isEntry, micros, now, printTable, rotate, spread, waitAtLeast } from './lib.js';

/** One child process: ms from SIGINT to its exit, and the stamps it printed (ms after the kill). */
function signalToExit(root, kind, count) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.GT_CHILD_ARGS?.split(' ').filter(Boolean) ?? []),
        new URL(import.meta.url).pathname,
        '--child',
        root,
        kind,
        String(count),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let killedAt;
    let out = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (killedAt === undefined && out.includes('ready')) {
        killedAt = now();
        child.kill('SIGINT');
      }
    });
    // Timed at 'exit'; its output read at 'close', once its stdout has ended (the stamps and cpu
    // lines are its last writes, from its own 'exit' listener).
    let end;
    child.on('exit', () => {
      end = now();
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (code !== 130) {
        reject(new Error(`ab-shutdown: ${kind} ${root} exited with ${code ?? signal}`));
        return;
      }
      const stamps = {};
      const line = out.split('\n').find((l) => l.startsWith('stamps '));
      if (line !== undefined) {
        for (const [name, ns] of Object.entries(JSON.parse(line.slice(7)))) {
          stamps[name] = micros(killedAt, BigInt(ns)) / 1e3;
        }
      }
      const cpuLine = out.split('\n').find((l) => l.startsWith('cpu '));
      resolvePromise({
        ms: micros(killedAt, end) / 1e3,
        stamps,
        cpu: cpuLine === undefined ? undefined : Number(cpuLine.slice(4)),
      });
    });
  });
}

async function child(root, kind, count) {
  // Where a build instrumented by hand may put its own stamps (globalThis.__st.name = hrtime).
  const stamps = {};
  globalThis.__st = stamps;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  if (kind === 'ours' || kind === 'ours-terminate') {
    const { Thread } = await import(new URL('dist/index.js', root).href);
    const url = new URL('bench/workers/shutdown-ours.js', root);
    const threads = [];
    for (let i = 0; i < count; i++) threads.push(new Thread(url, { export: 'idle', args: [counter.buffer] }).start());
    if (kind === 'ours-terminate') {
      // The library's threads, stopped as the baseline stops its workers (the program's own
      // listener: the library's shutdown steps aside).
      process.on('SIGINT', async () => {
        stamps.sig = process.hrtime.bigint();
        await Promise.all(threads.map((thread) => thread.terminate()));
        stamps.exit = process.hrtime.bigint();
        process.exit(130);
      });
    }
  } else {
    const workers = [];
    const url = new URL('bench/workers/shutdown-bare.js', root);
    for (let i = 0; i < count; i++) workers.push(new Worker(url, { workerData: { counter: counter.buffer } }));
    process.on('SIGINT', async () => {
      stamps.sig = process.hrtime.bigint();
      await Promise.all(workers.map((worker) => worker.terminate()));
      stamps.exit = process.hrtime.bigint();
      process.exit(130);
    });
  }
  await waitAtLeast(counter, 0, count, 120_000);
  // The main thread's CPU time from here (it then only waits) to its 'exit' event: what the
  // signal's path costs this thread, which wall times on a loaded machine hide (Node 23.9+).
  const cpuAtReady = process.threadCpuUsage?.();
  process.on('exit', () => {
    stamps.exitEvent = process.hrtime.bigint();
    if (cpuAtReady !== undefined) {
      const { user, system } = process.threadCpuUsage(cpuAtReady);
      process.stdout.write(`cpu ${(user + system) / 1e3}\n`);
    }
    const text = JSON.stringify(stamps, (_key, value) => (typeof value === 'bigint' ? String(value) : value));
    process.stdout.write(`stamps ${text}\n`);
  });
  console.log(`ready ${process.pid}`);
}

async function main(builds, rounds, counts) {
  const cases = [
    ...builds.map((build) => ({ ...build, kind: 'ours' })),
    ...(process.env.GT_OURS_TERMINATE
      ? [{ label: 'ours-terminate', root: builds[0].root, kind: 'ours-terminate' }]
      : []),
    { label: 'terminate-each', root: builds[0].root, kind: 'bare' },
  ];
  const samples = new Map(cases.map((c) => [c, new Map(counts.map((n) => [n, { ms: [], cpu: [], stamps: {} }]))]));
  for (let round = 0; round < rounds; round++) {
    for (const count of counts) {
      for (const c of rotate(cases, round % cases.length)) {
        const { ms, cpu, stamps } = await signalToExit(c.root, c.kind, count);
        const into = samples.get(c).get(count);
        into.ms.push(ms);
        if (cpu !== undefined) into.cpu.push(cpu);
        for (const [name, value] of Object.entries(stamps)) {
          into.stamps[name] ??= [];
          into.stamps[name].push(value);
        }
      }
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  for (const count of counts) {
    const base = spread(samples.get(cases.at(-1)).get(count).ms, 2);
    const rows = cases.map((c) => {
      const s = spread(samples.get(c).get(count).ms, 2);
      const cpu = samples.get(c).get(count).cpu;
      return [
        c.label,
        rounds,
        s.cells[0],
        s.cells[1],
        `${fmt(s.p50 / base.p50, 3)}×`,
        `${fmt(s.p90 / base.p90, 3)}×`,
        cpu.length === 0 ? '' : fmt(spread(cpu).p50, 2),
      ];
    });
    printTable(
      `SIGINT → exit, ${count} idle threads, ms (${process.version})`,
      ['build', 'n', 'p50', 'p90', 'p50 / baseline', 'p90 / baseline', 'main thread CPU p50'],
      rows,
    );
    const names = [...new Set(cases.flatMap((c) => Object.keys(samples.get(c).get(count).stamps)))];
    if (names.length > 0) {
      printTable(
        `  stamps, ms after the kill, p50 (${count} threads)`,
        ['build', ...names],
        cases.map((c) => [
          c.label,
          ...names.map((n) => {
            const v = samples.get(c).get(count).stamps[n];
            return v === undefined ? '' : fmt(spread(v).p50, 2);
          }),
        ]),
      );
    }
  }
}

if (isEntry(import.meta.url)) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3], process.argv[4], Number(process.argv[5]));
  } else {
    const args = process.argv.slice(2);
    const builds = buildsFromArgs(args);
    const numbers = args.filter((arg) => !arg.includes('='));
    const rounds = Number(numbers[0] ?? 15);
    const counts = (numbers[1] ?? '8,64').split(',').map(Number);
    if (builds.length === 0)
      throw new Error('usage: node bench/ab-shutdown.js LABEL=ROOT [LABEL=ROOT...] [ROUNDS] [COUNTS]');
    await main(builds, rounds, counts);
  }
}
