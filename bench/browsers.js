// npm run bench:browsers: the check cost and the wake latency in Chromium (V8) and Firefox
// (SpiderMonkey), each beside its baseline measured in the same page, in the same run. The
// pages (bench/browser/) run inside module workers started as Threads; scripts/serve.mjs
// serves them cross-origin isolated, scripts/browsers.mjs drives the browsers headless.
import { launchBrowser } from '../scripts/browsers.mjs';
import { startServer } from '../scripts/serve.mjs';
import { fmt, isEntry, machine, median, printTable, spread } from './lib.js';

const ITERATIONS = 20_000_000;
const ROUNDS = 21;
const WAKE_ROUNDS = 200;
const BASELINE = 'boolean another path writes (baseline)';
const NO_CHECK = 'no check (the loop alone)';

async function measure(name, server) {
  const browser = await launchBrowser(name);
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/bench/browser/bench.html`);
    await page.waitForFunction(() => window.benchReady === true, { timeout: 20_000 });
    const version = await browser.version();
    const checks = await page.evaluate((i, r) => window.bench.checkCost(i, r), ITERATIONS, ROUNDS);
    const wake = await page.evaluate((r) => window.bench.wake(r), WAKE_ROUNDS);
    return { version, checks, wake };
  } finally {
    await browser.close();
  }
}

export async function run() {
  const server = await startServer();
  try {
    for (const name of ['chromium', 'firefox']) {
      const { version, checks, wake } = await measure(name, server);
      const engine = name === 'chromium' ? 'V8' : 'SpiderMonkey';
      // The first round compiles; the loops are deterministic, so noise only adds: the fastest round.
      const best = (samples) => Math.min(...samples.slice(1));
      const floor = best(checks[NO_CHECK]);
      const baseline = best(checks[BASELINE]);
      printTable(
        `${version} (${engine}): per-call cost of a check in a hot loop in a worker, ns per iteration (fastest of ${ROUNDS - 1} rounds x ${ITERATIONS / 1e6}M iterations, median beside it; performance.now())`,
        ['check', 'ns', 'median', 'over no check', 'over the boolean'],
        Object.entries(checks).map(([check, samples]) => [
          check,
          fmt(best(samples), 3),
          fmt(median(samples.slice(1)), 3),
          fmt(best(samples) - floor, 3),
          fmt(best(samples) - baseline, 3),
        ]),
        name === 'firefox'
          ? [
              'SpiderMonkey hoists a plain read of shared memory out of a loop (test/browser/ proves it):',
              'interruptionRequested() there reads with Atomics.load.',
            ]
          : [],
      );
      const floorWake = spread(wake.floor);
      printTable(
        `${version} (${engine}): interrupt-to-wake latency of a sleeping worker, µs (${WAKE_ROUNDS} rounds, the two alternating; woken 1-3 ms into its sleep; performance.timeOrigin + now(), whose resolution is 5-20 µs in an isolated page)`,
        ['wake', 'n', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'p50 over the floor, µs'],
        [
          ['thread.interrupt() -> sleep() throws', wake.ours, fmt(spread(wake.ours).p50 - floorWake.p50, 1)],
          ['Atomics.notify -> bare Atomics.wait (floor)', wake.floor, ''],
        ].map(([kind, values, over]) => [kind, values.length, ...spread(values).cells, over]),
      );
    }
  } finally {
    await server.close();
  }
  return [];
}

if (isEntry(import.meta.url)) {
  console.log(`graceful-threads browser benchmarks, ${new Date().toISOString()}`);
  console.log(machine());
  await run();
}
