// The seed demo: eight threads nap in one-second sleeps; the first four are interrupted after
// five seconds, the other four five seconds later. Ctrl-C interrupts them all at once; a second
// Ctrl-C only says it is already stopping (every thread still prints its line), a third
// terminates the threads still running: the forced last resort, after interrupt and join.
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
const ctrlC = new AbortController();
let ctrlCs = 0;
// Listening from before the first line and for the whole run: a SIGINT that finds no listener
// kills the demo at once, before the threads it is joining have printed their lines.
process.on('SIGINT', () => {
  ctrlCs++;
  if (ctrlCs === 1) {
    ctrlC.abort();
  } else if (ctrlCs === 2) {
    console.log('  Ctrl-C again: already stopping, waiting for the threads to end (once more to terminate them).');
  } else {
    const running = threads.filter((thread) => thread.state === 'running');
    console.log(`  Ctrl-C a third time: terminating the ${running.length} threads still running.`);
    for (const thread of running) void thread.terminate();
  }
});
console.log(`Started ${threads.length} threads, each looping: while (!interruptionRequested()) sleep(1000)`);
console.log('Press Ctrl-C to interrupt them all.\n');

async function stopWave(wave: Thread<typeof sleeper>[], why: string): Promise<void> {
  console.log(`Interrupting ${wave.map((thread) => thread.name).join(', ')}:`);
  for (const thread of wave) thread.interrupt(stop(why));
  await Promise.all(wave.map((thread) => thread.join()));
  console.log(`  joined; states: ${wave.map((thread) => thread.state).join(', ')}\n`);
}

try {
  await delay(5000, undefined, { signal: ctrlC.signal });
  await stopWave(threads.slice(0, 4), 'first wave');
  await delay(5000, undefined, { signal: ctrlC.signal });
  await stopWave(threads.slice(4), 'second wave');
  console.log('A hand-rolled stop flag checked between sleep(1000) naps would have taken up to 1000 ms each.');
} catch (error) {
  if (!ctrlC.signal.aborted) throw error;
  console.log(`\nCtrl-C: interrupting the ${interruptAllThreads(stop('Ctrl-C'))} threads still running:`);
  await Promise.allSettled(threads.map((thread) => thread.join()));
  console.log(`  all joined; states: ${threads.map((thread) => thread.state).join(', ')}`);
  process.exitCode = 130; // the conventional exit code after SIGINT
}
