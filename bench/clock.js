// The benchmarks' clock, in nanoseconds as a bigint: one every thread of the process shares, so
// a stamp taken in a worker may be subtracted from one taken in the main thread. On Node that is
// process.hrtime; on Deno and Bun each worker's process.hrtime counts from its own start, so there
// it is the package's crossThreadNow() (src/clock.ts), written out here because the bare
// baselines' workers must not load the package (resolution: 0.24 us at today's epoch).
const shared = globalThis.Deno === undefined && process.versions.bun === undefined;

export const now = shared
  ? () => process.hrtime.bigint()
  : () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
