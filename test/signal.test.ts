import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { clearInterrupt, currentThread, interruptionSignal, Thread, ThreadInterruptedError } from 'graceful-threads';
import { idleButAlive, startWaiting, syncArray, targets, waitFor, within } from './helpers.ts';

afterEach(() => {
  clearInterrupt();
});

describe('interruptionSignal()', () => {
  it('aborts in a thread whose only pending work is waiting for it', async () => {
    const thread = await startWaiting('awaitSignal');
    await idleButAlive(thread);
    thread.interrupt('stop now');
    assert.deepEqual(await within(thread.join()), { aborted: true, isError: true, reason: 'stop now' });
  });

  it('aborts while the thread’s event loop idles on another handle, with no message sent', async () => {
    const thread = await startWaiting('signalWhileIdle');
    thread.interrupt({ code: 42 });
    assert.deepEqual(await within(thread.join()), { code: 42 });
  });

  it('is replaced by a fresh signal after clearInterrupt()', async () => {
    const sync = syncArray();
    const thread = new Thread(targets, { export: 'freshSignalAfterClear', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt('one');
    await waitFor(sync, 0, 2);
    thread.interrupt('two');
    assert.deepEqual(await within(thread.join()), { fresh: true, firstReason: 'one', secondReason: 'two' });
  });

  it('ends the thread as interrupted when an API rejects with its AbortError', async () => {
    const thread = await startWaiting('awaitsAbortableTimer');
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });

  it('keeps a returned result when a stray abortable promise rejects afterwards', async () => {
    const thread = await startWaiting('strayAbortableTimer');
    thread.interrupt();
    assert.equal(await within(thread.join()), 'returned');
    assert.equal(thread.state, 'interrupted', 'it ended through the interruption');
  });

  it('keeps the thread alive for a second watcher while the first one lets go', async () => {
    const thread = await startWaiting('overlappingWatchers');
    await idleButAlive(thread);
    thread.interrupt('from outside');
    assert.deepEqual(await within(thread.join()), { first: 'self', second: 'from outside' });
  });

  it('returns the same signal until it aborts, then an aborted one until cleared', () => {
    const first = interruptionSignal();
    assert.equal(interruptionSignal(), first);
    assert.equal(first.aborted, false);
    currentThread().interrupt('main');
    assert.equal(first.aborted, true, 'a self-interrupt aborts at once');
    assert.ok(first.reason instanceof ThreadInterruptedError);
    assert.equal(interruptionSignal(), first);
    clearInterrupt();
    const second = interruptionSignal();
    assert.notEqual(second, first);
    assert.equal(second.aborted, false);
  });

  it('stops a timers/promises wait in the main thread', async () => {
    const { setTimeout: delay } = await import('node:timers/promises');
    const pending = delay(60_000, undefined, { signal: interruptionSignal() });
    currentThread().interrupt('timer');
    // Node wraps the signal's reason in an AbortError's cause.
    await assert.rejects(
      within(pending),
      (error: Error) => error.name === 'AbortError' && error.cause instanceof ThreadInterruptedError,
    );
  });
});
