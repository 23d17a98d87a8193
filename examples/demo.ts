// The seed demo: eight threads nap in one-second sleeps; the first four are interrupted after
// five seconds, the other four five seconds later. Ctrl-C interrupts them all at once.
// Each thread reports how soon it stopped: about a millisecond or less, where a hand-rolled
// `while (!stop) sleep(1000)` flag would take up to a whole second.
import { setTimeout as delay } from 'node:timers/promises';
import { interruptAllThreads, Thread } from 'graceful-threads';
import type sleeper from './sleeper.js';
import type { StopRequest } from './sleeper.js';

const stop = (why: string): StopRequest => ({ why, at: Number(process.hrtime.bigint()) });

const threads = Array.from({ length: 8 }, (_, i) =>
  new Thread<typeof sleeper>(new URL('./sleeper.js', import.meta.url), { name: `sleeper-${i + 1}` }).start(),
);
console.log(`Started ${threads.length} threads, each looping: while (!interruptionRequested()) sleep(1000)`);
console.log('Press Ctrl-C to interrupt them all.\n');

async function stopWave(wave: Thread<typeof sleeper>[], why: string): Promise<void> {
  console.log(`Interrupting ${wave.map((thread) => thread.name).join(', ')}:`);
  for (const thread of wave) thread.interrupt(stop(why));
  await Promise.all(wave.map((thread) => thread.join()));
  console.log(`  joined; states: ${wave.map((thread) => thread.state).join(', ')}\n`);
}

const ctrlC = new AbortController();
process.once('SIGINT', () => ctrlC.abort());
try {
  await delay(5000, undefined, { signal: ctrlC.signal });
  await stopWave(threads.slice(0, 4), 'first wave');
  await delay(5000, undefined, { signal: ctrlC.signal });
  await stopWave(threads.slice(4), 'second wave');
  console.log('A hand-rolled stop flag checked between sleep(1000) naps would have taken up to 1000 ms each.');
} catch (error) {
  if (!ctrlC.signal.aborted) throw error;
  console.log(`\nCtrl-C: interrupting the ${interruptAllThreads(stop('Ctrl-C'))} threads still running:`);
  await Promise.all(threads.map((thread) => thread.join()));
  console.log('  all joined.');
  process.exitCode = 130; // the conventional exit code after SIGINT
}
