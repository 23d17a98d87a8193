// A/B of interrupt() → join() between two builds of the package, in the same run (not part of
// `npm run bench`: it compares checkouts, e.g. a branch and main):
//
//   node bench/ab-join.js LABEL=ROOT LABEL=ROOT [PROCESSES] [WARM]
//
// Each ROOT is a checkout with a built dist/ (`git worktree add ../base main && cd ../base &&
// npm ci && npm run build`). PROCESSES rounds (default 30); each round starts one fresh child
// process per build, in an order that alternates, and each child measures, as join-latency.js
// does, one first join (ours or the bare floor, alternating) and then WARM (default 6)
// interleaved pairs of ours and bare. Ours is read where code awaiting join() resumes, bare where
// code awaiting the worker's 'exit' resumes, both on process.hrtime.
import {
  buildsFromArgs,
  delay,
  fmt,
  isEntry,
  joinBareWorker,
  micros,
  now,
  printTable,
  runChild,
  spread,
  waitFor,
} from './lib.js';

const SETTLE_MS = 20;

async function child(root, firstKind, warmPairs) {
  const { Thread } = await import(new URL('dist/index.js', root).href);
  const ours = async () => {
    const control = new Int32Array(new SharedArrayBuffer(16));
    const thread = new Thread(new URL('bench/workers/ours.js', root), {
      export: 'sleepUntilInterrupted',
      args: [control.buffer],
    }).start();
    await waitFor(control, 0, 1);
    await delay(SETTLE_MS);
    const start = now();
    thread.interrupt();
    const end = await thread.join().then(() => now());
    if (thread.state !== 'interrupted') throw new Error(`ab-join: the thread ended ${thread.state}`);
    return micros(start, end) / 1e3;
  };
  const bare = () => joinBareWorker(new URL('bench/workers/bare.js', root), SETTLE_MS);
  const measure = { ours, bare };
  const result = { first: { [firstKind]: await measure[firstKind]() }, warm: { ours: [], bare: [] } };
  for (let pair = 0; pair < warmPairs; pair++) {
    for (const kind of pair % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours'])
      result.warm[kind].push(await measure[kind]());
  }
  return result;
}

async function main(builds, processes, warmPairs) {
  const samples = builds.map(() => ({ warm: { ours: [], bare: [] }, first: { ours: [], bare: [] } }));
  for (let round = 0; round < processes; round++) {
    const order = Math.floor(round / 2) % 2 === 0 ? [...builds.keys()] : [...builds.keys()].reverse();
    for (const index of order) {
      const result = await runChild(import.meta.url, [
        builds[index].root,
        round % 2 === 0 ? 'ours' : 'bare',
        warmPairs,
      ]);
      for (const kind of ['ours', 'bare']) {
        samples[index].warm[kind].push(...result.warm[kind]);
        if (result.first[kind] !== undefined) samples[index].first[kind].push(result.first[kind]);
      }
    }
  }
  const rows = [];
  for (const [index, { label }] of builds.entries()) {
    for (const when of ['warm', 'first']) {
      const ours = spread(samples[index][when].ours, 3);
      const bare = spread(samples[index][when].bare, 3);
      const n = `${samples[index][when].ours.length}/${samples[index][when].bare.length}`;
      rows.push([
        label,
        when,
        n,
        ours.cells[0],
        ours.cells[1],
        bare.cells[0],
        bare.cells[1],
        fmt(ours.p50 - bare.p50, 3),
      ]);
    }
  }
  printTable(
    `interrupt() → join() settled, ms, ${process.version}: builds alternating by process`,
    ['build', 'join', 'n ours/bare', 'ours p50', 'p90', 'bare p50', 'p90', 'p50 over bare'],
    rows,
  );
}

if (isEntry(import.meta.url)) {
  if (process.argv[2] === '--child') {
    const [root, firstKind, warmPairs] = process.argv.slice(3);
    console.log(JSON.stringify(await child(root, firstKind, Number(warmPairs))));
  } else {
    const args = process.argv.slice(2);
    const builds = buildsFromArgs(args);
    const [processes = 30, warmPairs = 6] = args.filter((arg) => !arg.includes('=')).map(Number);
    if (builds.length < 1) {
      console.error('usage: node bench/ab-join.js LABEL=ROOT [LABEL=ROOT ...] [PROCESSES] [WARM]');
      process.exit(2);
    }
    await main(builds, processes, warmPairs);
  }
}
