// Goal: interruptionRequested() costs at most 1 ns per call over a plain boolean that is really
// read, in a hot loop.
//
// Why the loops look the way they do: V8 folds a flag that nothing writes into a constant, and
// reads a flag that nothing inside the loop can write once before the loop (loop peeling and
// load elimination; Node 24+ does both for a module `let` or a property). Either way the
// "boolean" row would measure an empty loop. So every loop here, the no-check one included,
// has the same body: `n++` and `if (n === stopAt) raise()`, where raise() writes every flag.
// The warm-up runs each loop with a `stopAt` inside it, so raise() has run (V8 compiles the
// call, not a deoptimization) and each check is seen to stop its loop; the timed runs pass
// -1; and after them, the optimized loops must still stop right after raise(). Each variant is its own function so V8 optimizes each call site alone; rounds alternate
// between variants, in a rotating order, so machine noise falls on all of them alike, and the
// first round (where V8 compiles) is dropped. The figure is the fastest round (noise only ever
// adds time to a loop this deterministic), with the median beside it.
import { clearInterrupt, currentThread, interruptionRequested } from 'graceful-threads';
import { fmt, goal, median, printTable, rotate } from './lib.js';

const ITERATIONS = 20_000_000;
const ROUNDS = 21;
// JavaScriptCore (Bun) needs an Atomics.load every 1024th call (src/current.ts): its goal is 1.5 ns.
const GOAL_NS = process.versions.bun === undefined ? 1 : 1.5;

// The hand-rolled flag: a module variable that another code path (raise) writes.
let stopRequested = false;
let controller = new AbortController();
const shared = new Int32Array(new SharedArrayBuffer(8));

/** The code path that writes every flag; the loops call it when n reaches stopAt. */
function raise() {
  stopRequested = true;
  currentThread().interrupt('bench');
  controller.abort();
  Atomics.store(shared, 0, 1);
}

function reset() {
  stopRequested = false;
  clearInterrupt();
  controller = new AbortController();
  Atomics.store(shared, 0, 0);
  budget = 1024;
}

function noCheck(limit, stopAt) {
  let n = 0;
  while (n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

function plainBoolean(limit, stopAt) {
  let n = 0;
  while (!stopRequested && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

function ours(limit, stopAt) {
  let n = 0;
  while (!interruptionRequested() && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

function signalAborted(limit, stopAt) {
  const signal = controller.signal;
  let n = 0;
  while (!signal.aborted && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

function atomicsLoad(limit, stopAt) {
  let n = 0;
  while (Atomics.load(shared, 0) === 0 && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

// The spec-guaranteed alternative to a plain read: a plain read, and an Atomics.load every
// 1024th call, so that even an engine that hoists plain reads out of loops sees the flag
// within 1024 calls.
let budget = 1024;
function amortizedCheck() {
  if (--budget === 0) {
    budget = 1024;
    return Atomics.load(shared, 0) !== 0;
  }
  return shared[0] !== 0;
}
function amortizedAtomics(limit, stopAt) {
  let n = 0;
  while (!amortizedCheck() && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

const NO_CHECK = 'no check (the loop alone)';
const BOOLEAN = 'boolean another path writes (baseline)';
const OURS = 'interruptionRequested()';
const variants = [
  [NO_CHECK, noCheck],
  [BOOLEAN, plainBoolean],
  [OURS, ours],
  ['signal.aborted (no cross-thread wake)', signalAborted],
  ['Atomics.load every 1024th call (alternative)', amortizedAtomics],
  ['Atomics.load (naive shared flag)', atomicsLoad],
];

/** Each check must stop its loop right after raise() writes its flag, or it measures nothing. */
function verify() {
  const limit = 100_000;
  const stopAt = 1_000;
  for (const [name, loop] of variants) {
    reset();
    const n = loop(limit, stopAt);
    reset();
    const expected = loop === noCheck ? limit : stopAt + 1;
    if (n !== expected) throw new Error(`check-cost: "${name}" ran ${n} iterations, expected ${expected}`);
  }
}

export function run() {
  verify();
  const samples = new Map(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, loop] of rotate(variants, round)) {
      const start = process.hrtime.bigint();
      if (loop(ITERATIONS, -1) !== ITERATIONS) throw new Error(`${name} stopped early`);
      samples.get(name).push(Number(process.hrtime.bigint() - start) / ITERATIONS);
    }
  }
  verify(); // again, now that the loops run optimized code
  const ns = (name) => Math.min(...samples.get(name).slice(1)); // the first round compiles
  const med = (name) => median(samples.get(name).slice(1));
  const floor = ns(NO_CHECK);
  const boolean = ns(BOOLEAN);
  const oursOverBoolean = ns(OURS) - boolean;
  const verdict = goal(
    'check: interruptionRequested() over a boolean',
    oursOverBoolean <= GOAL_NS,
    `≤ ${GOAL_NS} ns over the boolean`,
    `${fmt(oursOverBoolean, 2)} ns`,
  );
  const rows = variants.map(([name]) => [
    name,
    fmt(ns(name), 3),
    fmt(med(name), 3),
    fmt(ns(name) - floor, 3),
    fmt(ns(name) - boolean, 3),
    name === OURS ? verdict.cell : '',
  ]);
  printTable(
    `Per-call cost of a check in a hot loop on ${process.versions.bun === undefined ? 'V8' : 'JavaScriptCore'}, ns per iteration (fastest of ${ROUNDS - 1} rounds × ${ITERATIONS / 1e6}M iterations, median beside it)`,
    ['check', 'ns', 'median', 'over no check', 'over the boolean', 'goal'],
    rows,
    [
      'Every loop: n++ and a never-taken `if (n === stopAt) raise()`; raise() writes every flag and ran in the',
      'warm-up, so V8 must read each flag on every iteration (each check was seen to stop its loop).',
    ],
  );
  return [verdict];
}
