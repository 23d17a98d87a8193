// A producer/consumer pipeline that stops cleanly on Ctrl-C: the producer is interrupted, closes
// the queue, and the consumers finish every job already queued before they end. Nothing is lost
// and nothing is killed.
//
//   npm run build && node scripts/build.mjs --examples .tmp/examples && node .tmp/examples/pipeline.js
import { Queue, Thread } from 'graceful-threads';
import type { consume, Job, produce } from './pipeline-stages.js';

const stages = new URL('./pipeline-stages.js', import.meta.url);
const queue = new Queue<Job>({ capacity: 64 });
// [0] jobs put, [1] jobs handled: written by the threads, read here at the end.
const counters = new Int32Array(new SharedArrayBuffer(8));

const producer = new Thread<typeof produce>(stages, { export: 'produce', args: [queue, counters], name: 'producer' });
const consumers = [1, 2, 3].map(
  (n) => new Thread<typeof consume>(stages, { export: 'consume', args: [queue, counters], name: `consumer-${n}` }),
);
// The handler first: a Ctrl-C that comes as soon as the line below is printed finds it there.
process.once('SIGINT', () => {
  console.log('\nCtrl-C: interrupting the producer; the consumers drain the queue.');
  producer.interrupt('Ctrl-C');
});
for (const thread of [producer, ...consumers]) thread.start();
console.log('Pipeline running: 1 producer, 3 consumers. Press Ctrl-C to stop it.');

await producer.join();
// A consumer returns how many it handled (undefined only if it was interrupted, which none is).
const handled = (await Promise.all(consumers.map((thread) => thread.join()))).map((n) => n ?? 0);
const total = handled.reduce((sum, n) => sum + n, 0);
const put = Atomics.load(counters, 0);
console.log(`Stopped: ${put} jobs put, ${total} handled (${handled.join(' + ')}), ${put - total} lost.`);
