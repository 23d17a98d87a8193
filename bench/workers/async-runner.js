// The thread of bench/async-interrupt.js (started with asyncInterrupt: true): times each kernel
// instrumented (this thread's own module) and plain (the same source from a data: URL, which
// the load hook leaves alone), round by round, and reports times as { name: { plain, instrumented } }.
import { readFileSync } from 'node:fs';
import { clearInterrupt } from 'graceful-threads';

const kernels = new URL('./async-kernels.js', import.meta.url);
const fromData = (url) => import(`data:text/javascript;base64,${readFileSync(url).toString('base64')}`);

export async function time(rounds) {
  const instrumented = await import(kernels.href);
  const plain = await fromData(kernels);
  const { timeRounds } = await fromData(new URL('./async-driver.js', import.meta.url));
  return timeRounds(plain, instrumented, rounds);
}

export async function spin(name, times, sync, stamps) {
  const instrumented = await import(kernels.href);
  instrumented.spin(name, times, sync, stamps, clearInterrupt);
}
