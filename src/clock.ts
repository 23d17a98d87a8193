/**
 * A clock that every thread of the process reads alike, for comparing a time stamped in one
 * thread with one stamped in another (how long after its interrupt a thread stopped).
 *
 * Neither obvious clock is one: each thread's `performance.now()` counts from that thread's own
 * start, and `process.hrtime` is one process-wide clock on Node only (on Deno and Bun each worker
 * counts from its own start: a thread's stamps came out a second early on Deno). Each thread's
 * `performance.timeOrigin` is its start on the wall clock, to the microsecond, so adding the two
 * gives every thread the same time line, monotonic within each thread (Node, Deno and Bun measured
 * alike to a few microseconds: test/clock.test.ts). The one thing that moves it is a step of the
 * system's wall clock between two threads' starts (NTP slews the clock rather than stepping it).
 */

/**
 * Milliseconds since the Unix epoch, with sub-microsecond resolution, on a clock every thread of
 * the process shares: a stamp taken in one thread may be subtracted from one taken in another.
 * Monotonic within a thread.
 *
 * @example
 * ```ts
 * // main thread
 * thread.interrupt(`stop@${crossThreadNow()}`);
 * // in the thread, once interrupted
 * const lateMs = crossThreadNow() - Number(String(error.reason).split('@')[1]);
 * ```
 */
export function crossThreadNow(): number {
  return performance.timeOrigin + performance.now();
}
