// The thread of the demo: sleeps in one-second naps until it is interrupted, then reports how
// long after the interrupt it stopped.
import { checkInterrupt, currentThread, interruptionRequested, sleep, ThreadInterruptedError } from 'graceful-threads';

/** What the demo's main thread sends as the interrupt's reason. */
export interface StopRequest {
  /** Why, for the log. */
  readonly why: string;
  /**
   * When interrupt() was called, in nanoseconds on the process's monotonic clock
   * (`process.hrtime`), which every thread shares: the time origins of `performance.now()`
   * differ between threads by up to a millisecond.
   */
  readonly at: number;
}

export default function sleeper(): void {
  try {
    while (!interruptionRequested()) sleep(1000);
    checkInterrupt(); // the loop saw the flag between two naps: take its reason the same way
  } catch (error) {
    if (!(error instanceof ThreadInterruptedError)) throw error;
    const clock = new Date().toISOString().slice(11, 23);
    const name = currentThread().name.padEnd(9);
    if (typeof error.reason === 'string') {
      // Ctrl-C: the library's shutdown interrupted every thread, with the signal's name as the reason.
      console.log(`  ${clock} ${name} stopped on ${error.reason}`);
    } else {
      const request = error.reason as StopRequest;
      const late = (Number(process.hrtime.bigint()) - request.at) / 1e6;
      console.log(`  ${clock} ${name} stopped ${late.toFixed(3).padStart(7)} ms after its interrupt (${request.why})`);
    }
    throw error; // end the thread through the interruption: join() resolves, state 'interrupted'
  }
}
