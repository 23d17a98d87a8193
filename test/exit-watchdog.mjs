/**
 * Preloaded into every test file's process (`--import`): once the file's last test has ended,
 * the process must end by itself. What still holds it open is a leak (a thread left running, a
 * timer, a socket): after a generous bound the watchdog names what is open and fails the file.
 *
 * It replaces `--test-force-exit`, which ends each file's process before its last results have
 * crossed the pipe to the runner: on Node 26 the reports of a file's later tests were dropped
 * while the run still passed (nodejs/node#64833).
 *
 * A file whose main thread blocks for good (a joinSync() or Atomics.wait that never returns) runs
 * neither its test timeout nor that timer, and Node 24 and newer bound no file as a whole (Node
 * 20's runner gives a file the test timeout): a guard thread kills the process once the file has
 * run for FILE_BOUND_MS, whatever the main thread does.
 */
import { isMainThread, Worker } from 'node:worker_threads';

// A test of the watchdog itself sets shorter bounds.
const BOUND_MS = Number(process.env.GRACEFUL_THREADS_TEST_EXIT_BOUND_MS ?? 30_000);
const FILE_BOUND_MS = Number(process.env.GRACEFUL_THREADS_TEST_FILE_BOUND_MS ?? 600_000);

// The guard: blocks on a word nobody writes for the bound, then writes to the standard error's
// file descriptor itself (a thread's process.stderr goes through the blocked main thread) and
// kills the process. Plain CommonJS evaluated as is, without the test's loaders.
const guardSource = `
const { writeSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.bound);
writeSync(2, 'exit watchdog: this test file ran ' + workerData.bound / 1000 + ' s without ending (its main thread blocked for good?): killed.\\n');
process.kill(process.pid, 'SIGKILL');
`;

// Only in a test file's own process, not in the runner that spawns them, and not in the threads
// the tests start (they inherit the preload with the process's options). Plain JavaScript: it
// also loads in threads that run without the TypeScript loader.
if (process.env.NODE_TEST_CONTEXT !== undefined && isMainThread) {
  // Unreferenced: it keeps no process alive, and ends with it.
  new Worker(guardSource, { eval: true, execArgv: [], env: {}, workerData: { bound: FILE_BOUND_MS } }).unref();
  const { after } = await import('node:test');
  after(() => {
    const timer = setTimeout(() => {
      const open = process.getActiveResourcesInfo().join(', ');
      process.stderr.write(
        `exit watchdog: this test file's process was still alive ${BOUND_MS / 1000} s after its last test, held open by: ${open}. A test leaked a thread, timer or handle.\n`,
      );
      process.exit(1);
    }, BOUND_MS);
    timer.unref();
  });
}
