// npm run bench: every benchmark, each against a baseline measured in the same run.
import * as checkCost from './check-cost.js';
import * as wakeLatency from './wake-latency.js';

console.log(`graceful-threads benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
checkCost.run();
await wakeLatency.run();
