// The thread of bench/async-interrupt.js (started with asyncInterrupt: true): times each kernel
// instrumented (this thread's own module) and plain (the same source from a data: URL, which
// the load hook leaves alone), round by round, and reports times as { name: { plain, instrumented } }.
import { readFileSync } from 'node:fs';
import { clearInterrupt } from 'graceful-threads';

const file = new URL('./async-kernels.js', import.meta.url);

export async function time(rounds) {
  const instrumented = await import(file.href);
  const plain = await import(`data:text/javascript;base64,${readFileSync(file).toString('base64')}`);
  const out = {};
  for (const name of Object.keys(plain.kernels)) {
    const args = plain.kernels[name];
    const samples = { plain: [], instrumented: [] };
    for (let round = 0; round <= rounds; round++) {
      // Alternating which goes first, so drift falls on both alike; round 0 warms up and is dropped.
      const order = round % 2 === 0 ? ['plain', 'instrumented'] : ['instrumented', 'plain'];
      for (const variant of order) {
        const fn = (variant === 'plain' ? plain : instrumented)[name];
        const start = process.hrtime.bigint();
        fn(...args);
        if (round > 0) samples[variant].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    out[name] = samples;
  }
  return out;
}

export async function spin(name, times, sync, stamps) {
  const instrumented = await import(file.href);
  instrumented.spin(name, times, sync, stamps, clearInterrupt);
}
