/**
 * Preloaded into every test file's process (`--import`): once the file's last test has ended,
 * the process must end by itself. What still holds it open is a leak (a thread left running, a
 * timer, a socket): after a generous bound the watchdog names what is open and fails the file.
 *
 * It replaces `--test-force-exit`, which ends each file's process before its last results have
 * crossed the pipe to the runner: on Node 26 the reports of a file's later tests were dropped
 * while the run still passed (nodejs/node#64833).
 */
import { isMainThread } from 'node:worker_threads';

// A test of the watchdog itself sets a shorter bound.
const BOUND_MS = Number(process.env.GRACEFUL_THREADS_TEST_EXIT_BOUND_MS ?? 30_000);

// Only in a test file's own process, not in the runner that spawns them, and not in the threads
// the tests start (they inherit the preload with the process's options). Plain JavaScript: it
// also loads in threads that run without the TypeScript loader.
if (process.env.NODE_TEST_CONTEXT !== undefined && isMainThread) {
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
