// thread.joinSync(): a blocking join from inside a thread (and the main thread), an interruption
// point, that agrees with join() on every way a thread can end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/join-sync.mjs', import.meta.url);

async function joinsChild(kind: string, timeoutMs?: number | string, ...args: unknown[]) {
  const thread = new Thread(fixture, { export: 'joinsChild', args: [kind, timeoutMs, ...args] }).start();
  return (await within(thread.join())) as Record<string, unknown>;
}

describe('thread.joinSync()', () => {
  it('returns the result, as join() does, and again on a second call', async () => {
    const seen = await joinsChild('returns', undefined, { answer: 42 });
    assert.deepEqual(seen, {
      sync: { returned: { answer: 42 } },
      again: { returned: { answer: 42 } },
      stateAfterSync: 'finished',
      asyncJoin: { returned: { answer: 42 } },
      state: 'finished',
    });
  });

  it("throws the target's error, as join() rejects", async () => {
    const seen = await joinsChild('throws', undefined, 'bad input');
    const error = { threw: 'RangeError', code: 'E_CHILD', message: 'bad input' };
    assert.deepEqual(seen, { sync: error, again: error, stateAfterSync: 'failed', asyncJoin: error, state: 'failed' });
  });

  it('returns undefined for a thread that ended interrupted', async () => {
    const seen = await joinsChild('sleepsUntilInterrupted', 'interrupt-child-first');
    assert.deepEqual(seen.sync, { returned: undefined });
    assert.equal(seen.stateAfterSync, 'interrupted');
    assert.equal(seen.state, 'interrupted');
  });

  it('throws ERR_THREAD_EXITED with the code of a process.exit() in the thread', async () => {
    const seen = await joinsChild('exits', undefined, 7);
    assert.equal((seen.sync as { code: string }).code, 'ERR_THREAD_EXITED');
    assert.match((seen.sync as { message: string }).message, /code 7/);
    assert.equal((seen.asyncJoin as { code: string }).code, 'ERR_THREAD_EXITED');
  });

  it('throws the uncaught error a thread died of after its target returned', async () => {
    const seen = await joinsChild('crashesLater');
    assert.deepEqual(seen.sync, { threw: 'TypeError', code: undefined, message: 'from a timer' });
    assert.equal(seen.stateAfterSync, 'failed');
    assert.equal((seen.asyncJoin as { message: string }).message, 'from a timer');
  });

  it('throws ERR_THREAD_JOIN_TIMEOUT when the thread runs past the timeout', async () => {
    const seen = await joinsChild('sleepsUntilInterrupted', 30);
    assert.equal((seen.sync as { code: string }).code, 'ERR_THREAD_JOIN_TIMEOUT');
    assert.equal(seen.stateAfterSync, 'running');
    assert.deepEqual(seen.asyncJoin, { returned: undefined });
  });

  it('is an interruption point: an interrupt wakes the joining thread, the child runs on', async () => {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'interruptedWhileJoining', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt();
    assert.deepEqual(await within(thread.join()), {
      sync: { threw: 'interrupted', code: 'ERR_THREAD_INTERRUPTED', message: 'The thread was interrupted' },
      childState: 'running',
      interrupted: true,
    });
  });

  it('works in the main thread, and rejects bad input', async () => {
    const thread = new Thread(fixture, { export: 'child', args: ['returns', 'main'] });
    assert.throws(() => thread.joinSync(), { code: 'ERR_INVALID_THREAD_STATE' });
    thread.start();
    assert.throws(() => thread.joinSync(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.equal(thread.joinSync(60_000), 'main');
    assert.equal(await within(thread.join()), 'main');
  });
});

describe('thread.joinSync() and the end of the thread', () => {
  it("returns after the thread's own 'exit' listeners have run", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const thread = new Thread(fixture, { export: 'joinSyncSees', args: ['slowExitListener', flag] }).start();
    assert.deepEqual(await within(thread.join()), { result: { returned: 'returned' }, flagAtJoin: 1 });
  });

  it('returns for a thread whose output is still on its way: the blocked parent cannot read it, so the thread cannot exit', async () => {
    const thread = new Thread(fixture, { export: 'joinsPrintingChild' }).start();
    assert.deepEqual(await within(thread.join(), 50_000), { returned: 'printed' });
  });

  it('agrees with join() when the thread handles an uncaught error itself', async () => {
    const thread = new Thread(fixture, { export: 'joinSyncSees', args: ['handlesUncaught'] }).start();
    assert.deepEqual(await within(thread.join()), { result: { returned: 'survived' }, flagAtJoin: undefined });
  });

  it('an error a capture callback handled is not what a thread that later exits died of, for either join', async () => {
    const exited = { threw: 'Error', code: 'ERR_THREAD_EXITED' };
    const seen = (await within(
      new Thread(fixture, { export: 'joinsChild', args: ['capturesUncaughtThenExits'] }).start().join(),
    )) as { sync: { threw?: string; code?: string } };
    assert.deepEqual({ threw: seen.sync.threw, code: seen.sync.code }, exited, JSON.stringify(seen));
    const error = await within(
      new Thread(fixture, { export: 'child', args: ['capturesUncaughtThenExits'] }).start().join(),
    ).then(
      () => assert.fail('the thread should fail'),
      (e: { name?: string; code?: string }) => e,
    );
    assert.deepEqual({ threw: error.name, code: error.code }, exited, String(error));
  });
});
