// A/B of the RSS of an idle thread between two (or more) builds of the package, in the same run,
// each beside the floor of bench/memory.js (not part of `npm run bench`: it compares checkouts,
// e.g. a branch and main):
//
//   node bench/ab-memory.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [KINDS]
//
// Each ROOT is a checkout with a built dist/ (`git archive main | tar -x -C ../base`, then
// `npm run build` there). Each measurement is one fresh child process running that checkout's own
// bench/memory.js child (one idle thread, then 20 more: MiB per idle thread after the first), so
// each build is measured with its own targets, which import that build by name (bench/workers/
// ours.js) or by URL (KINDS=ours,ours-url). ROUNDS (default 6) rounds, each running one child per
// build and kind and one of the bare floor (a bare ESM Worker in Atomics.wait, from the first
// ROOT), in an order that rotates round by round. Printed: the median per build and kind, its
// difference from the bare median, and the median of each process's difference from the bare
// process of its own round (the steadier figure on a loaded machine), with each process's figure.
import os from 'node:os';
import { abOptions, buildsFromArgs, fmt, median, printTable, rotate, runChild } from './lib.js';

const THREADS = 20;

/** MiB per idle thread in a fresh process running ROOT's bench/memory.js child for `kind`. */
async function perThread(root, kind) {
  const result = await runChild(new URL('bench/memory.js', root), [kind, THREADS]);
  return result.perThread;
}

async function main(builds, rounds, kinds) {
  const cases = [{ name: 'bare', root: builds[0].root, kind: 'bare' }];
  for (const { label, root } of builds) for (const kind of kinds) cases.push({ name: `${label} ${kind}`, root, kind });
  const samples = new Map(cases.map(({ name }) => [name, []]));
  const loads = [];
  for (let round = 0; round < rounds; round++) {
    loads.push(os.loadavg()[0]);
    const order = rotate(cases, round % cases.length);
    for (const { name, root, kind } of round % 2 === 0 ? order : order.reverse())
      samples.get(name).push(await perThread(root, kind));
  }
  const bare = samples.get('bare');
  const rows = cases.map(({ name }) => {
    const values = samples.get(name);
    return [
      name,
      fmt(median(values), 3),
      fmt(median(values) - median(bare), 3),
      fmt(median(values.map((value, i) => value - bare[i])), 3),
      values.map((value) => fmt(value, 2)).join(' '),
    ];
  });
  printTable(
    `RSS per idle thread, MiB, ${process.version}: ${rounds} rounds, one fresh process per case and round (1 + ${THREADS} idle threads)`,
    ['case', 'median', '− bare (medians)', '− bare (paired, median)', 'each process'],
    rows,
    [
      `load average (1 min) at each round's start: ${loads.map((load) => fmt(load, 2)).join(' ')}; at the end: ${os
        .loadavg()
        .map((load) => fmt(load, 2))
        .join(' ')}`,
    ],
  );
}

const args = process.argv.slice(2);
const builds = buildsFromArgs(args);
const { numbers, word } = abOptions(args);
const [rounds = 6] = numbers;
const kinds = (word ?? 'ours').split(',');
if (builds.length < 1) {
  console.error('usage: node bench/ab-memory.js LABEL=ROOT [LABEL=ROOT ...] [ROUNDS] [KINDS]');
  process.exit(2);
}
await main(builds, rounds, kinds);
