// Start latency, ours as users write a target: it imports the package by name (to call
// checkInterrupt) and its default export reads the shared process clock first.
import { checkInterrupt } from 'graceful-threads';

export default function started(timesBuffer) {
  const t = process.hrtime.bigint();
  new BigInt64Array(timesBuffer)[0] = t;
  checkInterrupt();
}
