// The seed demo: eight threads nap in one-second sleeps; the first four are interrupted after
// five seconds, the other four five seconds later. Each thread reports how soon it stopped: about
// a millisecond or less, where a hand-rolled `while (!stop) sleep(1000)` flag would take up to a
// whole second.
//
// Ctrl-C needs no code here: the library interrupts every thread still running, waits for each to
// end (each prints its line), and exits with 130. A second Ctrl-C while they end would terminate
// the ones still running, and say where each was stuck.
import { setTimeout as delay } from 'node:timers/promises';
import { crossThreadNow, Thread } from 'graceful-threads';
import type sleeper from './sleeper.js';
import type { StopRequest } from './sleeper.js';

const stop = (why: string): StopRequest => `${why}@${crossThreadNow()}`;

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

await delay(5000);
await stopWave(threads.slice(0, 4), 'first wave');
await delay(5000);
await stopWave(threads.slice(4), 'second wave');
console.log('A hand-rolled stop flag checked between sleep(1000) naps would have taken up to 1000 ms each.');
