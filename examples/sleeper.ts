// The thread of the demo: sleeps in one-second naps until it is interrupted, then reports how
// long after the interrupt it stopped.
import {
  checkInterrupt,
  crossThreadNow,
  currentThread,
  interruptionRequested,
  sleep,
  ThreadInterruptedError,
} from 'graceful-threads';

/**
 * What the demo's main thread sends as the interrupt's reason: why, and when interrupt() was
 * called, in milliseconds on `crossThreadNow()`, the clock every thread shares on Node, Deno and
 * Bun (`process.hrtime` is one only on Node; each thread's `performance.now()` has its own origin).
 * A string: a thread reads a string reason without loading the package's codec.
 */
export type StopRequest = `${string}@${number}`;

export default function sleeper(): void {
  try {
    while (!interruptionRequested()) sleep(1000);
    checkInterrupt(); // the loop saw the flag between two naps: take its reason the same way
  } catch (error) {
    if (!(error instanceof ThreadInterruptedError)) throw error;
    const clock = new Date().toISOString().slice(11, 23);
    const name = currentThread().name.padEnd(9);
    const reason = String(error.reason);
    const at = reason.lastIndexOf('@');
    if (at === -1) {
      // Ctrl-C: the library's shutdown interrupted every thread, with the signal's name as the reason.
      console.log(`  ${clock} ${name} stopped on ${reason}`);
    } else {
      const late = crossThreadNow() - Number(reason.slice(at + 1));
      const why = reason.slice(0, at);
      console.log(`  ${clock} ${name} stopped ${late.toFixed(3).padStart(7)} ms after its interrupt (${why})`);
    }
    throw error; // end the thread through the interruption: join() resolves, state 'interrupted'
  }
}
