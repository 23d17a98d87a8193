// The browser benchmarks' page: bench/browsers.js calls these and prints the tables.
import { Thread } from '/node_modules/graceful-threads/dist/browser/index.js';

const now = () => performance.timeOrigin + performance.now();

async function waitFor(array, index, value, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(array, index) !== value) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for [${index}] === ${value}`);
    const wait = Atomics.waitAsync(array, index, Atomics.load(array, index), Math.min(left, 100));
    if (wait.async) await wait.value;
  }
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

window.bench = {
  /** ns per iteration of each check, in a worker, rounds interleaved. */
  async checkCost(iterations, rounds) {
    const thread = new Thread(new URL('./check.js', import.meta.url), { args: [iterations, rounds] }).start();
    return thread.join();
  },

  /** Wake latency in µs, ours and the floor woken round by round in alternating order. */
  async wake(rounds) {
    const make = () => ({
      control: new Int32Array(new SharedArrayBuffer(16)),
      times: new Float64Array(new SharedArrayBuffer(8 * rounds)),
    });
    const ours = make();
    const floor = make();
    const thread = new Thread(new URL('./sleeper.js', import.meta.url), {
      args: [ours.control, ours.times, rounds],
    }).start();
    ours.wake = () => thread.interrupt();
    const worker = new Worker(new URL('./bare.js', import.meta.url), { type: 'module', name: 'bare-futex' });
    worker.postMessage({ control: floor.control, times: floor.times, rounds });
    floor.wake = () => {
      Atomics.store(floor.control, 1, 1);
      Atomics.notify(floor.control, 1);
    };
    const latencies = { ours: [], floor: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['ours', 'floor'] : ['floor', 'ours'];
      for (const kind of order) {
        const c = kind === 'ours' ? ours : floor;
        await waitFor(c.control, 0, 1);
        // Woken at a random moment 1-3 ms into its wait, so that it is asleep in the kernel.
        await delay(1 + Math.random() * 2);
        const start = now();
        c.wake();
        await waitFor(c.control, 0, 2);
        latencies[kind].push((c.times[round] - start) * 1000);
        Atomics.store(c.control, 0, 0);
        Atomics.notify(c.control, 0);
      }
    }
    await thread.join();
    return latencies;
  },
};
window.benchReady = true;
