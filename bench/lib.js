// Shared benchmark helpers: the clock, statistics, tables, goals, waiting on shared memory and
// fresh child processes, the bare-worker join floor. Plain Node APIs only.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { now } from './clock.js';

/** Nanoseconds as a bigint, on the clock every thread of the process shares (./clock.js). */
export { delay, now };

/** Microseconds between two `now()` readings. */
export const micros = (from, to) => Number(to - from) / 1e3;

/** The q-quantile (0..1) of numbers, nearest rank. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const median = (values) => quantile(values, 0.5);

export const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));

/** Prints rows of cells as an aligned Markdown table under a title, with optional notes below. */
export function printTable(title, header, rows, notes = []) {
  const widths = header.map((cell, i) => Math.max(String(cell).length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  for (const note of notes) console.log(`  ${note}`);
}

/** A goal's verdict: what index.js prints in its summary, and the table cell. */
export function goal(name, met, target, measured) {
  return { name, met, target, measured, cell: `${met ? 'met' : 'MISSED'} (${target})` };
}

/** One line describing the machine and the load on it, printed at the start and end of a run. */
export function machine() {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2));
  return `${runtime()}, ${os.platform()} ${os.arch()}, ${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, load average ${load.join(' ')}`;
}

/** The runtime and its engine, for the machine line. */
function runtime() {
  if (globalThis.Deno !== undefined) return `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`;
  if (process.versions.bun !== undefined) return `Bun ${process.versions.bun} (JavaScriptCore)`;
  return `Node ${process.version} (V8 ${process.versions.v8})`;
}

/**
 * Resolves once `array[index]` holds `value` (written by another thread), polling with
 * `Atomics.waitAsync` so the event loop stays free. Bounded: a benchmark must never hang.
 */
export async function waitFor(array, index, value, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = Atomics.load(array, index);
    if (current === value) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for word ${index} to become ${value}`);
    const result = Atomics.waitAsync(array, index, current, Math.min(left, 1000));
    if (result.async) await result.value;
  }
}

/** Resolves once `array[index]` is at least `value`. */
export async function waitAtLeast(array, index, value, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = Atomics.load(array, index);
    if (current >= value) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for word ${index} to reach ${value}`);
    const result = Atomics.waitAsync(array, index, current, Math.min(left, 1000));
    if (result.async) await result.value;
  }
}

/** Whether the module at `moduleUrl` is the process's entry point (`node bench/x.js …`). */
export const isEntry = (moduleUrl) =>
  process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;

/**
 * Runs `node [execArgv] <module> --child ...args` in a fresh process with the same Node binary
 * and returns the JSON its last stdout line holds. First-run figures come from such processes:
 * nothing loaded, compiled or paged in yet.
 */
export function runChild(moduleUrl, args, execArgv = []) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...execArgv, fileURLToPath(moduleUrl), '--child', ...args.map(String)],
      { timeout: 120_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`child ${moduleUrl} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
          return;
        }
        const last = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve(JSON.parse(last));
        } catch {
          reject(new Error(`child ${moduleUrl} ${args.join(' ')} printed no JSON:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

/** `list` rotated left by `by`: round `by` of an interleaved benchmark starts with a different case. */
export const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/** p50/p90/p99/max of latencies, formatted with `digits`. */
export function spread(values, digits = 1) {
  return {
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    max: Math.max(...values),
    cells: [0.5, 0.9, 0.99].map((q) => fmt(quantile(values, q), digits)).concat(fmt(Math.max(...values), digits)),
  };
}

/**
 * ms from Atomics.notify to the 'exit' of a bare worker (bench/workers/bare.js at `bareUrl`) that
 * waits, `settleMs` after it said it does (the floor of bench/join-latency.js and bench/ab-join.js).
 */
export async function joinBareWorker(bareUrl, settleMs) {
  const controlBuffer = new SharedArrayBuffer(16);
  const control = new Int32Array(controlBuffer);
  const worker = new Worker(bareUrl, { workerData: { mode: 'waitThenExit', control: controlBuffer } });
  const exited = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  await waitFor(control, 0, 1);
  await delay(settleMs);
  const start = now();
  Atomics.store(control, 1, 1);
  Atomics.notify(control, 1);
  // Read where code awaiting 'exit' resumes, as ours is read where code awaiting join() resumes:
  // after what Node queues at a worker's exit (its stdio streams' ends run first), 0.07-0.1 ms
  // later than inside the listener, 0.3-0.5 ms the first time.
  const end = await exited.then(() => now());
  return micros(start, end) / 1e3;
}

/**
 * One interrupt of a thread blocked in a wait (bench/workers/waits.js's protocol: control[0] 1 =
 * about to block, 2 = running again; times[round] its now() on waking): µs from the interrupt to
 * the thread running again. Interrupts 1-11 ms after it blocked.
 */
export async function wakeOnce(c, round) {
  await waitFor(c.control, 0, 1);
  await delay(1 + Math.random() * 10);
  const start = now();
  c.wake();
  await waitFor(c.control, 0, 2);
  const latency = micros(start, c.times[round]);
  Atomics.store(c.control, 0, 0);
  Atomics.notify(c.control, 0);
  return latency;
}

/** The A/B benches' `LABEL=PATH` arguments: each build's label and its root as a file URL. */
export function buildsFromArgs(args) {
  return args
    .filter((arg) => arg.includes('='))
    .map((arg) => {
      const [label, path] = arg.split('=');
      return { label, root: pathToFileURL(`${resolve(path)}/`).href };
    });
}

/**
 * The other arguments of an A/B bench, besides its LABEL=ROOT builds: the numbers in order (rounds,
 * then whatever the bench counts next) and the first word (the bench's case or comma-separated kinds).
 */
export function abOptions(args) {
  const rest = args.filter((arg) => !arg.includes('='));
  const isNumber = (arg) => /^\d+$/.test(arg);
  return { numbers: rest.filter(isNumber).map(Number), word: rest.find((arg) => !isNumber(arg)) };
}

/**
 * The floor of the wait benches, as a case for {@link wakeOnce}: a bare Worker (`bareUrl`,
 * bench/workers/bare.js) blocked in `Atomics.wait`, woken by an `Atomics.notify`.
 */
export function startFutexFloor(bareUrl, rounds) {
  const controlBuffer = new SharedArrayBuffer(16);
  const timesBuffer = new SharedArrayBuffer(8 * rounds);
  const control = new Int32Array(controlBuffer);
  const worker = new Worker(bareUrl, {
    workerData: { mode: 'futex', control: controlBuffer, times: timesBuffer, rounds },
  });
  const exited = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const wake = () => {
    Atomics.store(control, 1, 1);
    Atomics.notify(control, 1);
  };
  return { control, times: new BigInt64Array(timesBuffer), wake, done: () => exited, release() {} };
}
