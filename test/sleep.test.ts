import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  clearInterrupt,
  criticalSection,
  currentThread,
  sleep,
  sleepAsync,
  Thread,
  ThreadInterruptedError,
} from 'graceful-threads';
import { flagIndex, liveSlots, parkIndex, REQUESTED } from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';
import { startWaiting, targets, within } from './helpers.ts';

afterEach(() => {
  clearInterrupt();
});

describe('sleep()', () => {
  it('wakes a sleeping thread when it is interrupted', async () => {
    const thread = await startWaiting('sleepForever');
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });

  it('formats no stack before it blocks, and the interruption still has its own', async () => {
    const thread = await startWaiting('sleepWithStackHook');
    thread.interrupt();
    const result = (await within(thread.join())) as Record<string, unknown>;
    assert.equal(result.afterSleep, 0, 'no stack formatted by sleeping');
    assert.equal(result.isError, true);
    assert.match(String(result.stack), /^ThreadInterruptedError: The thread was interrupted \(\d+ frames\)$/);
    assert.equal(result.formatted, 1);
  });

  it('gives the error it built before blocking the reason of the interrupt that woke it: reason, message and stack', async () => {
    const thread = await startWaiting('sleepWithStackHook');
    thread.interrupt('deploy');
    const result = (await within(thread.join())) as Record<string, unknown>;
    assert.equal(result.afterSleep, 0, 'no stack formatted by sleeping');
    assert.equal(result.isError, true);
    assert.equal(result.reason, 'deploy');
    assert.equal(result.message, 'The thread was interrupted: deploy');
    assert.match(String(result.stack), /^ThreadInterruptedError: The thread was interrupted: deploy \(\d+ frames\)$/);
    assert.equal(result.formatted, 1);
  });

  it('throws at once when the flag is already set, even for 0 ms', () => {
    currentThread().interrupt('before');
    assert.throws(
      () => sleep(0),
      (error) => error instanceof ThreadInterruptedError && error.reason === 'before',
    );
    assert.throws(() => sleep(60_000), ThreadInterruptedError);
  });

  it('sleeps for the time asked when not interrupted', () => {
    const start = performance.now();
    sleep(20);
    assert.ok(performance.now() - start >= 19, 'slept at least the time asked');
  });

  it("blocks on the thread's park word, whose notify is an interrupt's last step (see wakeTarget)", () => {
    const waitedOn: number[] = [];
    const wait = Atomics.wait;
    (Atomics as { wait: unknown }).wait = (words: Int32Array, index: number, value: number, timeout?: number) => {
      if (words === state.block.words) waitedOn.push(index);
      return wait(words, index, value, timeout);
    };
    try {
      sleep(5);
    } finally {
      Atomics.wait = wait;
    }
    assert.ok(waitedOn.length > 0, 'it blocked');
    assert.deepEqual(new Set(waitedOn), new Set([parkIndex(state.self.slot)]), 'on its park word, not its flag word');
  });

  it('sleeps its full time through wake-ups meant for the waits of its thread', async () => {
    const thread = await startWaiting('sleepFor', 300);
    const [target] = [...liveSlots(state.registry!)];
    assert.ok(target !== undefined);
    // What a lock released, an item put or a child ending do to the park word of a thread they wake.
    const park = parkIndex(target.slot);
    for (let i = 0; i < 5; i++) {
      Atomics.add(state.registry!.words, park, 1);
      Atomics.notify(state.registry!.words, park);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = (await within(thread.join())) as { slept: number };
    assert.equal(thread.state, 'finished', 'not interrupted');
    assert.ok(result.slept >= 299, `slept ${result.slept} ms of 300`);
  });

  it('inside a critical section sleeps its full time', async () => {
    const thread = await startWaiting('sleepInCriticalSection', 200);
    thread.interrupt();
    const result = (await within(thread.join())) as { slept: number; interrupted: boolean };
    assert.equal(result.interrupted, true);
    assert.ok(result.slept >= 199, `slept ${result.slept} ms of 200`);
  });

  it('inside a critical section in the main thread does not throw', () => {
    criticalSection(() => {
      currentThread().interrupt();
      sleep(1);
    });
  });

  it('rejects bad durations with clear errors', () => {
    assert.throws(() => sleep(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /Received -1/ });
    assert.throws(() => sleep(Number.NaN), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error: not a number
    assert.throws(() => sleep('10'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error: missing
    assert.throws(() => sleep(), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('sleepAsync()', () => {
  it('resolves after the time asked', async () => {
    const thread = new Thread(targets, { export: 'sleepAsyncShort' }).start();
    assert.equal(await within(thread.join()), 'slept');
    const start = performance.now();
    await sleepAsync(20);
    // Timers run on libuv's millisecond clock and may fire up to ~2 ms early.
    assert.ok(performance.now() - start >= 17);
  });

  it('rejects with ThreadInterruptedError when the thread is interrupted', async () => {
    const thread = await startWaiting('sleepAsyncForever');
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });

  it('rejects at once when the flag is already set, and on a self-interrupt while pending', async () => {
    currentThread().interrupt('now');
    await assert.rejects(
      sleepAsync(60_000),
      (error) => error instanceof ThreadInterruptedError && error.reason === 'now',
    );
    clearInterrupt();
    const pending = sleepAsync(60_000);
    currentThread().interrupt('while pending');
    await assert.rejects(within(pending), (error) => error instanceof ThreadInterruptedError);
  });

  it('runs many at once in a thread without a MaxListenersExceededWarning', async () => {
    const thread = new Thread(new URL('./fixtures/lifecycle.mjs', import.meta.url), {
      export: 'warningsOfConcurrentSleeps',
      args: [25],
    }).start();
    assert.deepEqual(await within(thread.join()), []);
  });

  it('rejects bad durations', async () => {
    await assert.rejects(sleepAsync(-5), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error: not a number
    await assert.rejects(sleepAsync(null), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('sleep() without a notify', () => {
  it('sees a flag set with no wake-up within its wait slice (an interrupter that died before waking it)', async () => {
    const thread = await startWaiting('sleepForever');
    const live = [...liveSlots(state.registry!)];
    assert.equal(live.length, 1, 'only the sleeper is alive in this process');
    // What a terminated interrupter leaves when its parent is the sleeper itself: the flag set
    // and nobody to wake it.
    Atomics.or(state.registry!.words, flagIndex(live[0]!.slot), REQUESTED);
    assert.equal(await within(thread.join(), 10_000), undefined);
    assert.equal(thread.state, 'interrupted');
  });
});
