import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread, ThreadInterruptedError } from 'graceful-threads';
import type count from './fixtures/typed.ts';

const nodeMajor = Number(process.versions.node.split('.')[0]);

import { liveThreadCount, startWaiting, syncArray, targets, waitFor, within } from './helpers.ts';

describe('Thread: start and join', () => {
  it('runs the default export with args and resolves with its result', async () => {
    const thread = new Thread(targets, { args: [2, 3] });
    assert.equal(thread.state, 'new');
    assert.equal(thread.threadId, -1);
    thread.start();
    assert.equal(thread.state, 'running');
    assert.ok(thread.threadId > 0);
    assert.equal(await within(thread.join()), 5);
    assert.equal(thread.state, 'finished');
  });

  it('awaits an async target', async () => {
    const thread = new Thread(targets, { export: 'addLater', args: [20, 22] }).start();
    assert.equal(await within(thread.join()), 42);
  });

  it('accepts a path relative to the working directory and an absolute path', async () => {
    const relative = new Thread('./test/fixtures/targets.mjs', { args: [1, 1] }).start();
    const absolute = new Thread(new URL(targets).pathname, { args: [1, 2] }).start();
    assert.deepEqual(await within(Promise.all([relative.join(), absolute.join()])), [2, 3]);
  });

  it('shares a SharedArrayBuffer passed in args', async () => {
    const shared = syncArray(1);
    const thread = new Thread(targets, { export: 'sharedIncrement', args: [shared] }).start();
    assert.equal(await within(thread.join()), 5);
    assert.equal(Atomics.load(shared, 0), 5);
  });

  it('names threads Thread-<n> unless given a name, and the thread sees its name and id', async () => {
    const unnamed = new Thread(targets, { export: 'describeSelf' });
    assert.match(unnamed.name, /^Thread-\d+$/);
    const named = new Thread(targets, { export: 'describeSelf', name: 'indexer' }).start();
    unnamed.start();
    const [a, b] = await within(Promise.all([unnamed.join(), named.join()]));
    assert.deepEqual(a, { name: unnamed.name, threadId: unnamed.threadId, isMainThread: false });
    assert.deepEqual(b, { name: 'indexer', threadId: named.threadId, isMainThread: false });
  });

  it('passes Worker options such as env and resourceLimits on to Node', async () => {
    const thread = new Thread(targets, {
      export: 'readEnv',
      args: ['GRACEFUL_THREADS_TEST'],
      env: { GRACEFUL_THREADS_TEST: 'from env' },
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    }).start();
    assert.equal(thread.worker?.resourceLimits?.maxOldGenerationSizeMb, 64);
    assert.equal(await within(thread.join()), 'from env');
  });

  it('frees its registry slot when it ends', async () => {
    const live = liveThreadCount();
    const thread = new Thread(targets, { args: [1, 2] }).start();
    assert.equal(liveThreadCount(), live + 1);
    await within(thread.join());
    assert.equal(liveThreadCount(), live);
  });

  it('runs a TypeScript target through tsx where its hooks reach threads (Node 24, 26), with typed args and result', async () => {
    const thread = new Thread<typeof count>(new URL('./fixtures/typed.ts', import.meta.url), {
      args: [10, 'ts'],
      execArgv: ['--import', 'tsx'],
    }).start();
    if (nodeMajor >= 24) {
      assert.deepEqual(await within(thread.join()), { label: 'ts', reached: 10 });
    } else {
      // Node 20 applies no --import loader hooks inside worker threads: say so clearly.
      await assert.rejects(within(thread.join()), {
        code: 'ERR_THREAD_TYPESCRIPT_UNSUPPORTED',
        message: /22\.22\.3, 24\.11\.1 or newer with tsx/,
      });
    }
    // @ts-expect-error: args must match the target's parameters
    void new Thread<typeof count>(targets, { args: ['not a number', 'ts'] });
    // @ts-expect-error: args are required when the target takes parameters
    void new Thread<typeof count>(targets);
  });

  it('lets several joins wait for the same thread', async () => {
    const thread = new Thread(targets, { args: [1, 2] }).start();
    assert.deepEqual(await within(Promise.all([thread.join(), thread.join()])), [3, 3]);
    assert.equal(await thread.join(), 3);
  });
});

describe('Thread: interrupt', () => {
  it('stops a thread spinning on interruptionRequested()', async () => {
    const sync = syncArray();
    const thread = new Thread(targets, { export: 'spin', args: [sync], name: 'spinner' }).start();
    await waitFor(sync, 0, 1);
    assert.equal(thread.interrupted, false);
    thread.interrupt();
    assert.equal(thread.interrupted, true);
    assert.deepEqual(await within(thread.join()), { spins: true, name: 'spinner' });
    assert.equal(thread.state, 'finished');
    assert.equal(thread.interrupted, true, 'the flag as the thread ended');
  });

  it('resolves join() with undefined when the thread ends through ThreadInterruptedError', async () => {
    const thread = await startWaiting('sleepForever');
    thread.interrupt('enough');
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });

  it('delivers the reason, keeps the flag set after throwing, and clears it on request', async () => {
    const thread = await startWaiting('reasonOf');
    const reason = new RangeError('deadline passed');
    thread.interrupt(reason);
    thread.interrupt('a second reason is ignored');
    const seen = (await within(thread.join())) as Record<string, unknown>;
    assert.equal(seen.isError, true);
    assert.equal(seen.code, 'ERR_THREAD_INTERRUPTED');
    assert.equal(seen.name, 'ThreadInterruptedError');
    assert.ok(seen.reason instanceof RangeError);
    assert.equal((seen.reason as Error).message, 'deadline passed');
    assert.equal(seen.stillSet, true, 'throwing does not clear the flag');
    assert.equal(seen.throwsAgain, true, 'every check throws again');
    assert.equal(seen.cleared, true);
    assert.equal(seen.afterClear, false);
    assert.equal(seen.clearedAgain, false);
  });

  it('keeps the flag when a generic catch swallows the interruption', async () => {
    const thread = await startWaiting('swallow');
    thread.interrupt();
    assert.equal(await within(thread.join()), true);
  });

  it('delivers an interrupt made before start() from the first instruction', async () => {
    const thread = new Thread(targets, { export: 'flagAtStart' });
    thread.interrupt('early');
    assert.equal(thread.interrupted, true);
    thread.start();
    assert.equal(await within(thread.join()), true);
    const control = new Thread(targets, { export: 'flagAtStart' }).start();
    assert.equal(await within(control.join()), false);
  });

  it('keeps the reason of an interrupt made before start()', async () => {
    const sync = syncArray();
    const thread = new Thread(targets, { export: 'reasonOf', args: [sync] });
    thread.interrupt({ why: 'early' });
    thread.start();
    const seen = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(seen.reason, { why: 'early' });
  });

  it('is a no-op after the thread ended', async () => {
    const thread = new Thread(targets, { args: [1, 1] }).start();
    await within(thread.join());
    thread.interrupt('late');
    assert.equal(thread.interrupted, false);
    assert.equal(thread.state, 'finished');
  });

  it('ends a thread whose timer throws ThreadInterruptedError as interrupted', async () => {
    const thread = await startWaiting('interruptedInTimer');
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });
});

describe('Thread: join options', () => {
  it('rejects with signal.reason when the signal aborts first, and the thread keeps running', async () => {
    const thread = await startWaiting('sleepForever');
    const controller = new AbortController();
    const joining = thread.join({ signal: controller.signal });
    controller.abort(new Error('gave up waiting'));
    await assert.rejects(joining, { message: 'gave up waiting' });
    assert.equal(thread.state, 'running');
    await assert.rejects(thread.join({ signal: AbortSignal.abort('already') }), (error) => error === 'already');
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
  });

  it('resolves normally when the thread ends before the signal aborts', async () => {
    const controller = new AbortController();
    const thread = new Thread(targets, { args: [4, 4] }).start();
    assert.equal(await within(thread.join({ signal: controller.signal })), 8);
    controller.abort();
  });
});

describe('Thread: errors crossing threads', () => {
  it('keeps class name, message, stack, code, own properties and cause', async () => {
    const thread = new Thread(targets, { export: 'throwCoded' }).start();
    const error = await within(thread.join()).then(
      () => assert.fail('join should reject'),
      (e: unknown) => e as Error & { code: string; details: unknown },
    );
    assert.ok(error instanceof Error);
    assert.equal(error.constructor.name, 'ValidationError');
    assert.equal(error.message, 'invalid input');
    assert.equal(error.code, 'E_VALIDATION');
    assert.deepEqual(error.details, { field: 'x' });
    assert.match(error.stack ?? '', /throwCoded/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal((error.cause as Error).message, 'inner');
    assert.equal(thread.state, 'failed');
  });

  it('keeps built-in error classes', async () => {
    const thread = new Thread(targets, { export: 'throwRange' }).start();
    await assert.rejects(
      within(thread.join()),
      (error) => error instanceof RangeError && error.message === 'out of range',
    );
  });

  it('rejects with a thrown non-error value', async () => {
    const thread = new Thread(targets, { export: 'throwString' }).start();
    await assert.rejects(within(thread.join()), (error) => error === 'plain string');
  });

  it('rebuilds a ThreadInterruptedError cause as that class', async () => {
    const { rebuildError, describeError } = await import('../src/error-transfer.ts');
    const wrapped = new Error('outer', { cause: new ThreadInterruptedError('why') });
    const rebuilt = rebuildError(structuredClone(describeError(wrapped))) as Error;
    assert.ok(rebuilt.cause instanceof ThreadInterruptedError);
    assert.equal((rebuilt.cause as ThreadInterruptedError).reason, 'why');
  });

  it('rejects with ERR_THREAD_RESULT_NOT_CLONEABLE for a result that cannot be cloned', async () => {
    const thread = new Thread(targets, { export: 'returnsFunction' }).start();
    await assert.rejects(within(thread.join()), { name: 'TypeError', code: 'ERR_THREAD_RESULT_NOT_CLONEABLE' });
  });

  it('reports the target’s error even when an interruption crashes the thread later', async () => {
    const thread = await startWaiting('throwsThenInterrupted');
    thread.interrupt();
    await assert.rejects(within(thread.join()), { name: 'TypeError', message: 'the target failed' });
    assert.equal(thread.state, 'failed');
  });

  it('reports a crash after the target ended on its interrupt as a failure, with the crash’s class', async () => {
    // The thread said in shared memory that its target ended on the interrupt; its exit then
    // carries a crash report (join() reads the channel unless the exit was clean).
    const thread = await startWaiting('interruptedThenCrashes');
    thread.interrupt();
    await assert.rejects(within(thread.join()), { name: 'RangeError', message: 'crashed after the interrupt' });
    assert.equal(thread.state, 'failed');
  });

  it('reports a crash after the target returned as a failure', async () => {
    const thread = new Thread(targets, { export: 'returnsThenCrashes' }).start();
    await assert.rejects(within(thread.join()), { message: 'a late crash' });
    assert.equal(thread.state, 'failed');
  });

  it('ends a target awaiting what nothing can settle, once its signal has let go', async () => {
    const thread = new Thread(targets, { export: 'awaitsNothingAfterSection' }).start();
    await assert.rejects(within(thread.join()), { code: 'ERR_THREAD_UNSETTLED' });
  });

  it('rejects with ERR_THREAD_EXITED when the thread calls process.exit()', async () => {
    const thread = new Thread(targets, { export: 'exitEarly' }).start();
    await assert.rejects(within(thread.join()), { code: 'ERR_THREAD_EXITED', exitCode: 3 });
    assert.equal(thread.state, 'failed');
  });
});

describe('Thread: terminate', () => {
  it('stops a thread that ignores interrupts; join rejects with ERR_THREAD_TERMINATED', async () => {
    const thread = await startWaiting('sleepInCriticalSection', 600_000);
    thread.interrupt();
    await within(thread.terminate());
    assert.equal(thread.state, 'terminated');
    await assert.rejects(thread.join(), { code: 'ERR_THREAD_TERMINATED' });
    await thread.terminate(); // a no-op once ended
  });

  it('before start marks the thread terminated', async () => {
    const thread = new Thread(targets);
    await thread.terminate();
    assert.equal(thread.state, 'terminated');
    assert.throws(() => thread.start(), { code: 'ERR_INVALID_THREAD_STATE' });
  });
});

describe('Thread: bad input', () => {
  it('rejects a module that is neither a string nor a URL', () => {
    // @ts-expect-error: not a module
    assert.throws(() => new Thread(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('rejects a bare module name, as Worker does', () => {
    assert.throws(() => new Thread('targets.mjs'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('rejects options of the wrong types', () => {
    // @ts-expect-error: not an object
    assert.throws(() => new Thread(targets, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error: export must be a string
    assert.throws(() => new Thread(targets, { export: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error: args must be an array
    assert.throws(() => new Thread(targets, { args: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error: name must be a string
    assert.throws(() => new Thread(targets, { name: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('rejects join() for a module that does not exist', async () => {
    const thread = new Thread('./test/fixtures/missing.mjs').start();
    await assert.rejects(within(thread.join()), { code: 'ERR_THREAD_MODULE_NOT_FOUND', message: /missing\.mjs/ });
    assert.equal(thread.state, 'failed');
  });

  it('rejects join() for a missing export, listing the exports', async () => {
    const thread = new Thread(targets, { export: 'nope' }).start();
    await assert.rejects(within(thread.join()), {
      name: 'TypeError',
      code: 'ERR_THREAD_EXPORT_NOT_FOUND',
      message: /no export named "nope".*sleepForever/,
    });
  });

  it('rejects join() for an export that is not a function', async () => {
    const thread = new Thread(targets, { export: 'aNumber' }).start();
    await assert.rejects(within(thread.join()), { name: 'TypeError', code: 'ERR_THREAD_EXPORT_NOT_FUNCTION' });
  });

  it('throws from start() for args that cannot be cloned, and frees the slot', () => {
    const live = liveThreadCount();
    const thread = new Thread(targets, { args: [() => 1] });
    thread.interrupt('early');
    assert.throws(() => thread.start(), { name: 'TypeError', code: 'ERR_THREAD_ARGS_NOT_CLONEABLE' });
    assert.equal(thread.state, 'new');
    assert.equal(thread.interrupted, true, 'the early interrupt is kept for a later start');
    assert.equal(liveThreadCount(), live);
  });

  it('throws from start() when started twice', async () => {
    const thread = new Thread(targets, { args: [1, 1] }).start();
    assert.throws(() => thread.start(), { name: 'Error', code: 'ERR_INVALID_THREAD_STATE' });
    await within(thread.join());
    assert.throws(() => thread.start(), { code: 'ERR_INVALID_THREAD_STATE' });
  });

  it('rejects join() before start()', async () => {
    await assert.rejects(new Thread(targets).join(), { code: 'ERR_INVALID_THREAD_STATE', message: /start\(\)/ });
  });

  it('rejects join() options of the wrong types', async () => {
    const thread = new Thread(targets, { args: [1, 1] }).start();
    // @ts-expect-error: not an AbortSignal
    await assert.rejects(thread.join({ signal: 'x' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error: not an object
    await assert.rejects(thread.join(5), { code: 'ERR_INVALID_ARG_TYPE' });
    await within(thread.join());
  });

  it('rejects reasons that cannot reach the thread, before setting the flag', () => {
    const thread = new Thread(targets);
    assert.throws(() => thread.interrupt(() => 1), { name: 'TypeError', code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' });
    assert.throws(() => thread.interrupt('x'.repeat(10_000)), {
      name: 'RangeError',
      code: 'ERR_INTERRUPT_REASON_TOO_LARGE',
    });
    assert.equal(thread.interrupted, false);
  });
});
