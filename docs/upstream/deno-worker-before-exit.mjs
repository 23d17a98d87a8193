// A node:worker_threads worker whose event loop empties: Node (and Bun) emit 'beforeExit' in it,
// then 'exit'. Deno 2.9.6 emits only 'exit'.
//
//   node:  worker: last timer / worker: beforeExit / worker: exit 0 / parent: worker exit 0
//   deno:  worker: last timer / worker: exit 0 / parent: worker exit 0
import { isMainThread, Worker } from 'node:worker_threads';

if (isMainThread) {
  new Worker(new URL(import.meta.url)).on('exit', (code) => console.log('parent: worker exit', code));
} else {
  process.once('beforeExit', () => console.log('worker: beforeExit'));
  process.on('exit', (code) => console.log('worker: exit', code));
  setTimeout(() => console.log('worker: last timer'), 10);
}
