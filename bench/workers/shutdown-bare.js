// The baseline's workers: plain ESM workers that count themselves in and block in Atomics.wait
// (or spin), without graceful-threads.
import { workerData } from 'node:worker_threads';

const counter = new Int32Array(workerData.counter);
Atomics.add(counter, 0, 1);
Atomics.notify(counter, 0);
if (workerData.spin) for (;;);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
