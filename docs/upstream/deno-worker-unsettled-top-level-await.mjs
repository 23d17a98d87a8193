// A node:worker_threads worker whose module's top-level await never settles (so does one that
// awaits import() of such a module). Node ends the worker with exit code 13 (Bun too); Deno 2.9.6
// never ends it: no 'exit' in the worker or at its parent, and the process does not exit (on the
// main thread Deno reports "Top-level await promise never resolved").
//
//   node:  worker: exit 0 / parent: worker exit 13
//   deno:  parent: no 'exit' from the worker within 5 s
import { isMainThread, Worker } from 'node:worker_threads';

if (isMainThread) {
  const timer = setTimeout(() => {
    console.log("parent: no 'exit' from the worker within 5 s");
    process.exit(1);
  }, 5000);
  new Worker(new URL(import.meta.url)).on('exit', (code) => {
    console.log('parent: worker exit', code);
    clearTimeout(timer);
  });
} else {
  process.on('exit', (code) => console.log('worker: exit', code));
  await new Promise(() => {});
}
