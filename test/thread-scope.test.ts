/**
 * Tying a thread to a scope: `new Thread(module, { signal })` and `await using` (Symbol.asyncDispose),
 * and the listeners both leave behind (none).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { startWaiting, syncArray, targets, waitFor, within } from './helpers.ts';

const scope = new URL('./fixtures/scope.mjs', import.meta.url);

describe('Thread: the signal option', () => {
  it('interrupts the running thread with signal.reason when the signal aborts', async () => {
    const controller = new AbortController();
    const sync = syncArray();
    const thread = new Thread(targets, { export: 'reasonOf', args: [sync], signal: controller.signal }).start();
    await waitFor(sync, 0, 1);
    assert.equal(thread.interrupted, false);
    controller.abort({ why: 'scope closed' });
    const seen = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(seen.reason, { why: 'scope closed' });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'its listener is gone');
  });

  it('gives a deadline with AbortSignal.timeout(): the reason arrives as the TimeoutError DOMException', async () => {
    const sync = syncArray();
    const signal = AbortSignal.timeout(50);
    const thread = new Thread(scope, { export: 'reasonShape', args: [sync], signal }).start();
    assert.deepEqual(await within(thread.join()), {
      isDOMException: true,
      name: 'TimeoutError',
      message: 'The operation was aborted due to timeout',
      code: 23,
    });
  });

  it('an already aborted signal interrupts the thread from its first instruction', async () => {
    const thread = new Thread(targets, { export: 'flagAtStart', signal: AbortSignal.abort('no time') });
    assert.equal(thread.interrupted, true);
    assert.equal(await within(thread.start().join()), true);
  });

  it('a reason that cannot reach the thread still interrupts it, never throwing from the listener', async () => {
    const controller = new AbortController();
    const sync = syncArray();
    const thread = new Thread(scope, { export: 'reasonShape', args: [sync], signal: controller.signal }).start();
    await waitFor(sync, 0, 1);
    controller.abort(() => 'a function cannot be cloned');
    const seen = (await within(thread.join())) as { isDOMException: boolean; name: string; message: string };
    assert.equal(seen.isDOMException, true);
    assert.equal(seen.name, 'AbortError');
    assert.match(seen.message, /function/);
  });

  it('leaves no listener on a long-lived signal once the thread has ended', async () => {
    const controller = new AbortController();
    const threads = Array.from({ length: 5 }, (_, i) =>
      new Thread(targets, { args: [i, 1], signal: controller.signal }).start(),
    );
    await within(Promise.all(threads.map((thread) => thread.join())));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('rejects a signal that is not an AbortSignal', () => {
    assert.throws(() => new Thread(targets, { signal: {} as AbortSignal }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });
});

describe('Thread: await using', () => {
  it('interrupts and joins the thread when the scope ends, also when it ends by an error', async () => {
    let escaped: Thread | undefined;
    await assert.rejects(async () => {
      await using thread = await startWaiting('sleepForever');
      escaped = thread;
      throw new Error('the scope failed');
    }, /the scope failed/);
    assert.equal(escaped?.state, 'interrupted', 'joined before the error left the scope');
  });

  it('does not throw the thread’s failure, and does nothing for a thread never started', async () => {
    const failing = new Thread(targets, { export: 'throwRange' }).start();
    await failing[Symbol.asyncDispose]();
    assert.equal(failing.state, 'failed');
    await assert.rejects(failing.join(), RangeError, 'join() still reports it');
    const unstarted = new Thread(targets);
    await unstarted[Symbol.asyncDispose]();
    assert.equal(unstarted.state, 'new');
  });
});

describe('Thread: details that are easy to lose', () => {
  it('keeps the first reason of several interrupts made before start()', async () => {
    const sync = syncArray();
    const thread = new Thread(targets, { export: 'reasonOf', args: [sync] });
    thread.interrupt('first');
    thread.interrupt('second');
    const seen = (await within(thread.start().join())) as Record<string, unknown>;
    assert.equal(seen.reason, 'first');
  });

  it('join({ signal }) leaves no listener on the signal once the thread has ended', async () => {
    const controller = new AbortController();
    const thread = new Thread(targets, { args: [2, 3] }).start();
    assert.equal(await within(thread.join({ signal: controller.signal })), 5);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('Thread: the signal option, edge cases', () => {
  it('a signal that aborts between the constructor and start() interrupts from the first instruction', async () => {
    const controller = new AbortController();
    const thread = new Thread(targets, { export: 'flagAtStart', signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener before start()');
    controller.abort('before start');
    assert.equal(await within(thread.start().join()), true);
  });

  it('survives a reason whose every property throws, and still interrupts', async () => {
    const controller = new AbortController();
    const sync = syncArray();
    const thread = new Thread(scope, { export: 'reasonShape', args: [sync], signal: controller.signal }).start();
    await waitFor(sync, 0, 1);
    const hostile = new Proxy(new Error('x'), {
      get() {
        throw new Error('no reading');
      },
      getPrototypeOf() {
        throw new Error('no prototype');
      },
    });
    controller.abort(hostile);
    const seen = (await within(thread.join())) as { isDOMException: boolean; name: string };
    assert.equal(seen.isDOMException, true);
    assert.equal(seen.name, 'AbortError');
  });
});
