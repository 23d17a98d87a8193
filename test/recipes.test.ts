// The README's recipes, run as written against real threads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread, type ThreadTarget } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/recipes.mjs', import.meta.url);

// README, "Stopping a thread that may not listen": keep the two in step.
/** Interrupts `thread`, waits up to `ms` for it to end, then terminates it. */
async function stop(thread: Thread<ThreadTarget>, ms = 2000): Promise<void> {
  thread.interrupt('shutting down');
  const deadline = AbortSignal.timeout(ms);
  try {
    await thread.join({ signal: deadline });
  } catch (error) {
    if (error !== deadline.reason) throw error; // the thread failed on its own
    await thread.terminate(); // it ignored the interrupt: the last resort, no finally runs
  }
}

async function startWaiting(exportName: string): Promise<{ thread: Thread; sync: Int32Array }> {
  const sync = syncArray();
  const thread = new Thread(fixture, { export: exportName, args: [sync] }).start();
  await waitFor(sync, 0, 1);
  return { thread, sync };
}

describe('recipe: interrupt, join with a deadline, then terminate', () => {
  it('joins a thread that honours the interrupt, its finally block run', async () => {
    const { thread, sync } = await startWaiting('honoursInterrupts');
    await within(stop(thread, 20_000));
    assert.equal(thread.state, 'interrupted');
    assert.equal(Atomics.load(sync, 1), 1, 'the finally block ran');
    assert.equal(await thread.join(), undefined);
  });

  it('terminates a thread that ignores the interrupt once the deadline passes', async () => {
    const { thread, sync } = await startWaiting('ignoresInterrupts');
    const started = performance.now();
    await within(stop(thread, 500));
    assert.ok(performance.now() - started >= 450, 'it waited for the deadline before terminating');
    assert.equal(thread.state, 'terminated');
    assert.equal(Atomics.load(sync, 1), 0, 'no finally block runs on terminate()');
    await assert.rejects(thread.join(), { code: 'ERR_THREAD_TERMINATED' });
  });

  it('reports the error of a thread that fails while stopping, without terminating it', async () => {
    const { thread } = await startWaiting('failsOnInterrupt');
    await assert.rejects(within(stop(thread, 20_000)), { message: 'cleanup failed' });
    assert.equal(thread.state, 'failed');
  });
});
