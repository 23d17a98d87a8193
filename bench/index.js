// npm run bench [-- name ...]: every benchmark (or the named ones), each against a baseline
// measured in the same run, then a summary of the goals.
import { machine, printTable } from './lib.js';

const benchmarks = {
  check: './check-cost.js',
  kernel: './kernel.js',
  wake: './wake-latency.js',
  join: './join-latency.js',
  start: './start.js',
  memory: './memory.js',
  waits: './waits.js',
  queue: './queue.js',
  shutdown: './shutdown.js',
  pool: './pool.js',
  async: './async-interrupt.js',
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !Object.hasOwn(benchmarks, name));
if (unknown.length > 0) {
  console.error(
    `Unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(benchmarks).join(', ')} (none: all of them).`,
  );
  process.exit(2);
}

const started = process.hrtime.bigint();
console.log(`graceful-threads benchmarks, ${new Date().toISOString()}`);
console.log(machine());
const verdicts = [];
for (const name of names.length > 0 ? names : Object.keys(benchmarks)) {
  const { run } = await import(benchmarks[name]);
  verdicts.push(...(await run()));
}
if (verdicts.length > 0) {
  printTable(
    'Goals',
    ['goal', 'target', 'measured', 'verdict'],
    verdicts.map((v) => [v.name, v.target, v.measured, v.met ? 'met' : 'MISSED']),
  );
}
console.log(`\nDone in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s. At the end: ${machine()}`);
