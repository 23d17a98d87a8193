// A/B of new Thread(url).start() → the target's first instruction between two builds of the
// package, in the same run, each beside the floor of bench/start.js (not part of `npm run bench`:
// it compares checkouts, e.g. a branch and main):
//
//   node bench/ab-start.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [PROCESSES]
//
// Each ROOT is a checkout with a built dist/ (`git archive main | tar -x -C ../base`, then
// `npm run build` there); its own bench/workers/start-ours-named.js is the target and imports
// that build by name, as bench/start.js's does. Warm: ROUNDS (default 60) rounds in one process,
// each starting one thread of every build and one bare Worker (bench/workers/start-bare.js), in
// an order that rotates, each ended before the next starts. First: PROCESSES (default 30) rounds,
// each running, per build, one fresh child process that starts one thread of that build and one
// bare Worker (order alternating), the builds' children in an order that alternates. Timed as
// bench/start.js does, on process.hrtime. Beside the ratio of p50s, the median of each sample's
// ratio to the bare one of its round or process: on a loaded machine the steadier of the two.
// Limit: the warm builds share one process, so they share the package's per-thread state and its
// registry (a registered global symbol): builds whose control-block layout differs cannot be
// compared warm (compare their first starts, each in its own process).
import { Worker } from 'node:worker_threads';
import {
  buildsFromArgs,
  delay,
  fmt,
  isEntry,
  micros,
  now,
  printTable,
  quantile,
  rotate,
  runChild,
  spread,
} from './lib.js';

const PAUSE_MS = 10; // between samples, so the previous thread's teardown is over
const BARE = 'bare';

/** ms from new Thread() to the target's first instruction, for the build at `root`. */
async function startOurs(Thread, root) {
  const times = new BigInt64Array(new SharedArrayBuffer(8));
  const start = now();
  const thread = new Thread(new URL('bench/workers/start-ours-named.js', root), { args: [times.buffer] }).start();
  await thread.join();
  return micros(start, times[0]) / 1e3;
}

/** ms from new Worker() to the module's first instruction (the floor). */
async function startBare(root) {
  const times = new BigInt64Array(new SharedArrayBuffer(8));
  const start = now();
  const worker = new Worker(new URL('bench/workers/start-bare.js', root), { workerData: times.buffer });
  await new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  return micros(start, times[0]) / 1e3;
}

async function child(root, order) {
  const { Thread } = await import(new URL('dist/index.js', root).href);
  const measure = { ours: () => startOurs(Thread, root), bare: () => startBare(root) };
  const result = {};
  for (const kind of order.split(',')) result[kind] = await measure[kind]();
  return result;
}

/**
 * A table row: p50/p90 of ours and of the bare floor, their ratio, and the median of each
 * sample's ratio to the bare one of its own round (warm) or process (first): what the machine's
 * load of the moment does to both cancels out there more than between two p50s.
 */
function row(label, when, ours, bare) {
  const o = spread(ours, 3);
  const b = spread(bare, 3);
  const paired = quantile(
    ours.map((value, i) => value / bare[i]),
    0.5,
  );
  return [label, when, o.cells[0], o.cells[1], b.cells[0], b.cells[1], fmt(o.p50 / b.p50, 3), fmt(paired, 3)];
}

async function main(builds, rounds, processes) {
  const cases = new Map([[BARE, () => startBare(builds[0].root)]]);
  for (const { label, root } of builds) {
    const { Thread } = await import(new URL('dist/index.js', root).href);
    cases.set(label, () => startOurs(Thread, root));
  }
  const names = [...cases.keys()];
  const warm = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = rotate(names, round % names.length);
    for (const name of Math.floor(round / names.length) % 2 === 0 ? order : order.reverse()) {
      await delay(PAUSE_MS);
      warm.get(name).push(await cases.get(name)());
    }
  }
  const first = builds.map(() => ({ ours: [], bare: [] }));
  for (let round = 0; round < processes; round++) {
    const order = Math.floor(round / 2) % 2 === 0 ? [...builds.keys()] : [...builds.keys()].reverse();
    for (const index of order) {
      const result = await runChild(import.meta.url, [builds[index].root, round % 2 === 0 ? 'ours,bare' : 'bare,ours']);
      first[index].ours.push(result.ours);
      first[index].bare.push(result.bare);
    }
  }
  const rows = [];
  for (const [index, { label }] of builds.entries()) {
    rows.push(row(label, 'warm', warm.get(label), warm.get(BARE)));
    if (processes > 0) rows.push(row(label, 'first', first[index].ours, first[index].bare));
  }
  printTable(
    `start → the target's first instruction, ms, ${process.version}: ${rounds} warm rounds interleaved, ${processes} fresh processes per build`,
    ['build', 'start', 'ours p50', 'p90', 'bare p50', 'p90', '× bare (p50)', 'paired × bare (median)'],
    rows,
  );
}

if (isEntry(import.meta.url)) {
  if (process.argv[2] === '--child') {
    console.log(JSON.stringify(await child(process.argv[3], process.argv[4])));
  } else {
    const args = process.argv.slice(2);
    const builds = buildsFromArgs(args);
    const [rounds = 60, processes = 30] = args.filter((arg) => !arg.includes('=')).map(Number);
    if (builds.length < 1) {
      console.error('usage: node bench/ab-start.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [PROCESSES]');
      process.exit(2);
    }
    await main(builds, rounds, processes);
  }
}
