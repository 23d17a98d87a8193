/** Shared test helpers: synchronising with threads through shared memory, with a bound. */
import { Thread } from 'graceful-threads';
import { liveSlots } from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';

// The waits of src/waits/ re-check every second in production, which would hide a lost wake-up
// as a delay: in tests they park without that net (fixtures set the same in their threads).
(globalThis as Record<symbol, unknown>)[Symbol.for('graceful-threads.test.park-slice-ms')] = 600_000;

/** A fresh Int32Array over a SharedArrayBuffer, for a thread to signal where it is. */
export function syncArray(length = 8): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** Resolves once `array[index]` equals `value`; rejects after `timeoutMs`. */
export async function waitFor(array: Int32Array, index: number, value: number, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const current = Atomics.load(array, index);
    if (current === value) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for sync[${index}] === ${value} (is ${current})`);
    // A pending waitAsync keeps no event loop alive; the timer does. It outlasts the wait: fired
    // first, it would leave the loop empty while the wait's own timeout is pending (Deno then
    // ends at once, Node now and then).
    const waitMs = Math.min(left, 100);
    const timer = setTimeout(() => {}, waitMs + 1_000);
    const result = Atomics.waitAsync(array, index, current, waitMs);
    if (result.async) await result.value;
    clearTimeout(timer);
  }
}

/** Rejects if `promise` does not settle within `timeoutMs`: no test waits unbounded. */
export async function within<T>(promise: Promise<T>, timeoutMs = 20_000, what = 'the thread'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The fixture module every test thread runs. */
export const targets = new URL('./fixtures/targets.mjs', import.meta.url);

/**
 * Starts the fixture export `name` with a sync array and `extra` arguments, and resolves once the
 * thread has reached its waiting point (it sets sync[0] to 1 there).
 */
export async function startWaiting(name: string, ...extra: unknown[]): Promise<Thread> {
  const sync = syncArray();
  const thread = new Thread(targets, { export: name, args: [sync, ...extra] }).start();
  await waitFor(sync, 0, 1);
  return thread;
}

/** How many threads started by this library are alive in the process (the registry's count). */
export function liveThreadCount(): number {
  // The src modules share the thread state with the built package through its global symbol.
  return state.registry === undefined ? 0 : [...liveSlots(state.registry)].length;
}

/**
 * Resolves once the thread's event loop has sat idle for `idleMs` while the thread is still
 * running: proof that something holds it open, where a thread with an empty loop would have
 * ended. Rejects if the thread ends first, or after `timeoutMs`.
 */
export async function idleButAlive(thread: Thread, idleMs = 100, timeoutMs = 20_000): Promise<void> {
  const worker = thread.worker;
  if (worker === undefined) throw new Error('the thread has not started');
  const ended = thread.join().then(
    () => 'resolved',
    (error: { code?: unknown }) => `rejected (${String(error.code)})`,
  );
  let outcome: string | undefined;
  void ended.then((how) => {
    outcome = how;
  });
  const idleAtStart = worker.performance.eventLoopUtilization().idle;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (outcome !== undefined) throw new Error(`the thread ended (join ${outcome}) instead of staying alive`);
    if (worker.performance.eventLoopUtilization().idle - idleAtStart >= idleMs) return;
    if (performance.now() > deadline) throw new Error(`the thread's event loop was not idle for ${idleMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Resolves once `count` threads are enlisted in the wait queue whose waiter count is word `index`
 * of a lock's, queue's... shared memory (a lock's queue follows its one word of state): they are
 * in the wait loop, past their first attempt. Rejects after `timeoutMs`.
 */
export async function enlisted(primitive: object, index: number, count = 1, timeoutMs = 20_000): Promise<void> {
  const describe = Symbol.for('graceful-threads.describe-shared.v1');
  const { buffer } = (primitive as { [key: symbol]: () => { buffer: SharedArrayBuffer } })[describe]!();
  const words = new Int32Array(buffer);
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(words, index) < count) {
    if (performance.now() > deadline) throw new Error(`${count} waiter(s) never enlisted`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
