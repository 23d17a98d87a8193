// Start latency, ours: the target's first instruction reads the shared process clock.
export default function started(timesBuffer) {
  const t = process.hrtime.bigint();
  new BigInt64Array(timesBuffer)[0] = t;
}
