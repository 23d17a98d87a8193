// The check-cost loops of bench/check-cost.js, run inside a browser's worker (a Thread): the
// same loop bodies, each check against a boolean that another code path really writes. Returns
// ns per iteration, round by round, variants in a rotating order. Clock: performance.now().
import {
  clearInterrupt,
  currentThread,
  interruptionRequested,
} from '/node_modules/graceful-threads/dist/browser/index.js';

let stopRequested = false;
const shared = new Int32Array(new SharedArrayBuffer(8));

function raise() {
  stopRequested = true;
  currentThread().interrupt('bench');
  Atomics.store(shared, 0, 1);
}

function reset() {
  stopRequested = false;
  clearInterrupt();
  Atomics.store(shared, 0, 0);
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

function atomicsLoad(limit, stopAt) {
  let n = 0;
  while (Atomics.load(shared, 0) === 0 && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

function plainShared(limit, stopAt) {
  let n = 0;
  while (shared[0] === 0 && n < limit) {
    if (n === stopAt) raise();
    n++;
  }
  return n;
}

const variants = {
  'no check (the loop alone)': noCheck,
  'boolean another path writes (baseline)': plainBoolean,
  'interruptionRequested()': ours,
  'Atomics.load (naive shared flag)': atomicsLoad,
  'plain read of shared memory (may be hoisted)': plainShared,
};

/** Each check must stop its loop right after raise(), or it measures nothing. */
function verify() {
  for (const [name, loop] of Object.entries(variants)) {
    reset();
    const n = loop(100_000, 1_000);
    reset();
    const expected = loop === noCheck ? 100_000 : 1_001;
    if (n !== expected) throw new Error(`"${name}" ran ${n} iterations, expected ${expected}`);
  }
}

export default function checkCost(iterations, rounds) {
  verify();
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      const start = performance.now();
      if (variants[name](iterations, -1) !== iterations) throw new Error(`${name} stopped early`);
      samples[name].push(((performance.now() - start) * 1e6) / iterations);
    }
  }
  verify();
  return samples;
}
