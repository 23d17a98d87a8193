// A/B of interrupt → running again, for a thread blocked in sleep(), Lock.acquire(),
// Condition.wait() and Queue.take(), between two builds of the package, in one process (not part
// of `npm run bench`: it compares checkouts, e.g. a branch and main):
//
//   node bench/ab-waits.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [KINDS]
//
// Each ROOT is a checkout with a built dist/ (`git archive main | tar -x -C ../base`, then
// `npm run build` there); its own bench/workers/waits.js runs the blocked thread and imports that
// build by name. ROUNDS (default 200): every round wakes each build's thread of each kind (KINDS,
// comma-separated, default sleep,lock,condition,queue) and the floor (Atomics.notify → a bare
// Worker in Atomics.wait) once, in an order that rotates, each 1-11 ms after it blocked; as
// bench/waits.js does, timed with process.hrtime on both sides.
import {
  abOptions,
  buildsFromArgs,
  fmt,
  isEntry,
  printTable,
  rotate,
  spread,
  startFutexFloor,
  wakeOnce,
} from './lib.js';

const FLOOR = 'floor';

async function startCase(root, kind, rounds) {
  const { Condition, Lock, Queue, Thread } = await import(new URL('dist/index.js', root).href);
  const controlBuffer = new SharedArrayBuffer(16);
  const timesBuffer = new SharedArrayBuffer(8 * rounds);
  const primitive = {
    lock: () => new Lock(),
    condition: () => new Condition(),
    queue: () => new Queue({ capacity: 4 }),
  }[kind]?.();
  if (kind === 'lock') primitive.acquire();
  const thread = new Thread(new URL('bench/workers/waits.js', root), {
    export: 'blockUntilInterrupted',
    args: [kind, primitive, controlBuffer, timesBuffer, rounds],
  }).start();
  return {
    control: new Int32Array(controlBuffer),
    times: new BigInt64Array(timesBuffer),
    wake: () => thread.interrupt(),
    done: () => thread.join(),
    release: () => (kind === 'lock' ? primitive.release() : undefined),
  };
}

async function main(builds, rounds, kinds) {
  const cases = new Map([[FLOOR, startFutexFloor(new URL('bench/workers/bare.js', builds[0].root), rounds)]]);
  for (const { label, root } of builds) {
    for (const kind of kinds) cases.set(`${kind} ${label}`, await startCase(root, kind, rounds));
  }
  const names = [...cases.keys()];
  const latencies = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of rotate(names, round)) latencies.get(name).push(await wakeOnce(cases.get(name), round));
  }
  await Promise.all([...cases.values()].map((c) => c.done()));
  for (const c of cases.values()) c.release();
  const floor = spread(latencies.get(FLOOR));
  printTable(
    `Interrupt → running again, ${process.version}, ${rounds} rounds interleaved (woken 1-11 ms after it blocked; process.hrtime)`,
    ['wait', 'n', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'p50 / p90 over the floor, µs'],
    names.map((name) => {
      const s = spread(latencies.get(name));
      const over = name === FLOOR ? '' : `${fmt(s.p50 - floor.p50, 1)} / ${fmt(s.p90 - floor.p90, 1)}`;
      return [name, latencies.get(name).length, ...s.cells, over];
    }),
  );
  return latencies;
}

if (isEntry(import.meta.url)) {
  const args = process.argv.slice(2);
  const builds = buildsFromArgs(args);
  const { numbers, word } = abOptions(args);
  const [rounds = 200] = numbers;
  const kinds = (word ?? 'sleep,lock,condition,queue').split(',');
  if (builds.length < 1) {
    console.error('usage: node bench/ab-waits.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [KINDS]');
    process.exit(2);
  }
  await main(builds, rounds, kinds);
}
