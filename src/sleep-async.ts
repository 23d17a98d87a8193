/**
 * `sleepAsync()`: a sleep that awaits the thread's interruption signal. Rarely run, so part of
 * rare.js (src/rare.ts), as the signal is.
 */
import { interruptionSignal } from './interruption-signal.js';
import { validateDelay } from './sleep.js';

// setTimeout fires at once for delays above 2^31 - 1 ms, so longer sleeps re-arm.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `sleepAsync()`, which index.ts exports and documents. */
export async function sleepAsync(ms: number): Promise<void> {
  validateDelay(ms);
  const signal = interruptionSignal();
  signal.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let left = ms;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const arm = (): void => {
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      timer = setTimeout(() => {
        if (left > 0) return arm();
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, step);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}
