import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { interruptAllThreads, Thread } from 'graceful-threads';
import { startWaiting, syncArray, targets, waitFor, within } from './helpers.ts';

describe('interruptAllThreads()', () => {
  it('interrupts every running thread from the main thread and counts them', async () => {
    const syncs = [syncArray(), syncArray(), syncArray()];
    const threads = syncs.map((sync) => new Thread(targets, { export: 'sleepForever', args: [sync] }).start());
    const finished = new Thread(targets, { args: [1, 1] }).start();
    await within(finished.join());
    const notStarted = new Thread(targets, { export: 'sleepForever', args: [syncArray()] });
    for (const sync of syncs) await waitFor(sync, 0, 1);
    assert.equal(interruptAllThreads('all'), 3);
    assert.equal(interruptAllThreads('again'), 0, 'threads already interrupted are not counted again');
    await within(Promise.all(threads.map((thread) => thread.join())));
    assert.deepEqual(
      threads.map((thread) => thread.state),
      ['interrupted', 'interrupted', 'interrupted'],
    );
    assert.equal(notStarted.interrupted, false, 'threads not yet started are not included');
    assert.equal(interruptAllThreads(), 0, 'nothing left to interrupt');
  });

  it('reaches nested threads, and works from inside a worker, sparing the caller', async () => {
    const sync = syncArray(8);
    const parent = new Thread(targets, { export: 'parentOf', args: [sync, 3], name: 'parent' }).start();
    await waitFor(sync, 0, 1);
    await waitFor(sync, 1, 3); // all three children are running
    const caller = new Thread(targets, { export: 'interruptOthers', args: ['from a worker'] }).start();
    // parent + 3 children; the calling worker is spared.
    assert.deepEqual(await within(caller.join()), { reached: 4, selfInterrupted: false });
    const result = (await within(parent.join())) as { states: string[] };
    assert.deepEqual(result.states, ['interrupted', 'interrupted', 'interrupted']);
    for (let child = 1; child <= 3; child++) {
      assert.equal(Atomics.load(sync, 2 + child), 1, `child ${child} ran its finally block`);
    }
  });

  it('leaves out the threads of a plain Worker, which form a group of their own', async () => {
    const sync = syncArray();
    const worker = new Worker(new URL('./fixtures/plain-worker.mjs', import.meta.url), {
      workerData: { sync, targets: targets.href },
    });
    try {
      await waitFor(sync, 0, 1);
      assert.equal(interruptAllThreads('from main'), 0);
      worker.postMessage('go');
      const [result] = (await within(once(worker, 'message'))) as [unknown];
      assert.deepEqual(result, { reached: 1, state: 'interrupted' });
    } finally {
      await worker.terminate();
    }
  });

  it('rejects a reason that cannot be cloned before interrupting anything', async () => {
    const thread = await startWaiting('sleepForever');
    assert.throws(() => interruptAllThreads(Symbol('x')), { code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' });
    assert.equal(thread.interrupted, false);
    thread.interrupt();
    await within(thread.join());
  });
});
