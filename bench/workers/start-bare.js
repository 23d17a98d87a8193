// Start latency, the floor: a bare ESM Worker's first instruction reads the shared process clock.
import { workerData } from 'node:worker_threads';

const t = process.hrtime.bigint();
new BigInt64Array(workerData)[0] = t;
