// A realistic kernel: a matrix-vector product over Float64Arrays (ROWS dot products of COLS
// elements), with no check, a check per element or a check per row, for a plain boolean and
// for interruptionRequested(). Reports what each check adds to the kernel.
//
// The boolean is a module `let` that a real message handler writes at run time, as the
// hand-rolled pattern does. Nothing inside the kernel writes it, so V8 may read it once per
// loop instead of once per element (Node 24+ does): the row then costs what no check costs,
// and it is also why such a boolean cannot stop a kernel that is already running.
// check-cost.js measures a boolean read on every iteration.
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { clearInterrupt, currentThread, interruptionRequested } from 'graceful-threads';
import { fmt, median, printTable, rotate } from './lib.js';

const ROWS = 1000;
const COLS = 1000;
const PASSES = 10; // matrix-vector products per sample
const ROUNDS = 31;

let stopRequested = false;

function noCheck(m, x, out) {
  for (let r = 0; r < ROWS; r++) {
    const base = r * COLS;
    let sum = 0;
    for (let c = 0; c < COLS; c++) sum += m[base + c] * x[c];
    out[r] = sum;
  }
  return ROWS;
}

function booleanPerElement(m, x, out) {
  for (let r = 0; r < ROWS; r++) {
    const base = r * COLS;
    let sum = 0;
    for (let c = 0; c < COLS; c++) {
      if (stopRequested) return r;
      sum += m[base + c] * x[c];
    }
    out[r] = sum;
  }
  return ROWS;
}

function booleanPerRow(m, x, out) {
  for (let r = 0; r < ROWS; r++) {
    if (stopRequested) return r;
    const base = r * COLS;
    let sum = 0;
    for (let c = 0; c < COLS; c++) sum += m[base + c] * x[c];
    out[r] = sum;
  }
  return ROWS;
}

function oursPerElement(m, x, out) {
  for (let r = 0; r < ROWS; r++) {
    const base = r * COLS;
    let sum = 0;
    for (let c = 0; c < COLS; c++) {
      if (interruptionRequested()) return r;
      sum += m[base + c] * x[c];
    }
    out[r] = sum;
  }
  return ROWS;
}

function oursPerRow(m, x, out) {
  for (let r = 0; r < ROWS; r++) {
    if (interruptionRequested()) return r;
    const base = r * COLS;
    let sum = 0;
    for (let c = 0; c < COLS; c++) sum += m[base + c] * x[c];
    out[r] = sum;
  }
  return ROWS;
}

const NO_CHECK = 'no check';
const variants = [
  [NO_CHECK, noCheck],
  ['boolean, per element', booleanPerElement],
  ['interruptionRequested(), per element', oursPerElement],
  ['boolean, per row', booleanPerRow],
  ['interruptionRequested(), per row', oursPerRow],
];

/** Writes the boolean from a message handler, as a hand-rolled stop flag is written. */
async function setFlagByMessage(value) {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (message) => {
    stopRequested = message === 'stop';
  });
  port2.postMessage(value ? 'stop' : 'go');
  await once(port1, 'message');
  port1.close();
}

export async function run() {
  const m = new Float64Array(ROWS * COLS);
  const x = new Float64Array(COLS);
  for (let i = 0; i < m.length; i++) m[i] = Math.random();
  for (let i = 0; i < x.length; i++) x[i] = Math.random();
  const out = new Float64Array(ROWS);
  const reference = new Float64Array(ROWS);
  noCheck(m, x, reference);

  // Each variant stops at once when its flag is set, and computes the same result otherwise.
  await setFlagByMessage(true);
  currentThread().interrupt('bench');
  for (const [name, kernel] of variants) {
    if (kernel !== noCheck && kernel(m, x, out) !== 0) throw new Error(`kernel: "${name}" ignored its flag`);
  }
  clearInterrupt();
  await setFlagByMessage(false);
  for (const [name, kernel] of variants) {
    out.fill(0);
    if (kernel(m, x, out) !== ROWS || out.some((v, i) => v !== reference[i])) {
      throw new Error(`kernel: "${name}" computed a different result`);
    }
  }

  const samples = new Map(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, kernel] of rotate(variants, round)) {
      const start = process.hrtime.bigint();
      for (let pass = 0; pass < PASSES; pass++) kernel(m, x, out);
      samples.get(name).push(Number(process.hrtime.bigint() - start) / (PASSES * ROWS * COLS));
    }
  }
  // The fastest round (noise only adds time), the median beside it; the first round compiles.
  const ns = (name) => Math.min(...samples.get(name).slice(1));
  const med = (name) => median(samples.get(name).slice(1));
  const floor = ns(NO_CHECK);
  const rows = variants.map(([name]) => [
    name,
    fmt(ns(name), 3),
    fmt(med(name), 3),
    fmt(ns(name) - floor, 3),
    `${fmt(((ns(name) - floor) / floor) * 100, 1)} %`,
    fmt(ns(name) / floor, 2),
  ]);
  printTable(
    `A kernel, a ${ROWS}×${COLS} Float64Array matrix × vector: ns per element (fastest of ${ROUNDS - 1} rounds × ${PASSES} products, median beside it)`,
    ['check', 'ns', 'median', 'over no check', 'overhead', '× no check'],
    rows,
    [
      'The boolean: a module `let` a message handler writes; nothing in the kernel writes it, so V8 may read it',
      'once per loop (then it costs nothing, and could not stop the kernel while it runs). No goal: for context.',
    ],
  );
  return [];
}
