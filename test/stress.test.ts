/**
 * The protocol through the public API, with real threads racing it: interrupters terminated at
 * random moments, and threads starting and ending while interruptAllThreads() loops. Bounded in
 * time; the exhaustive-style interleavings are in protocol-interleavings.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { state } from '../src/thread-state.ts';
import { liveThreadCount, syncArray, waitFor, within } from './helpers.ts';
import { checkInvariants } from './protocol-harness.ts';

const stress = new URL('./fixtures/stress.mjs', import.meta.url);

/** Resolves once `predicate` holds, polling on a timer; rejects after `timeoutMs`. */
async function eventually(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('the protocol under real threads', () => {
  it('a sleeper always wakes when an interrupter looping interruptAllThreads() is terminated at a random moment', async (t) => {
    const sleeperSync = syncArray();
    const sleeper = new Thread(stress, { export: 'sleeperLoop', args: [sleeperSync], name: 'sleeper' }).start();
    // Should an assertion fail, the sleeper must not outlive this test (the next ones count threads).
    t.after(() => {
      Atomics.store(sleeperSync, 2, 1);
      sleeper.interrupt('stop');
    });
    await waitFor(sleeperSync, 0, 1);
    for (let i = 0; i < 60; i++) {
      const sync = syncArray();
      const interrupter = new Thread(stress, {
        export: 'interruptLoop',
        args: [sync],
        name: `interrupter-${i}`,
      }).start();
      await waitFor(sync, 0, 1);
      // A random moment of its loop (not a synchronisation: any moment must do).
      const until = performance.now() + Math.random() * 3;
      while (performance.now() < until);
      await within(interrupter.terminate(), 10_000, 'terminate()');
      // Nobody interrupts the sleeper any more: whatever the interrupter left, the sleeper must
      // wake, clear its flag and sleep again.
      await eventually(() => !sleeper.interrupted, `iteration ${i}: the sleeper did not wake and clear its flag`);
    }
    assert.ok(Atomics.load(sleeperSync, 1) > 0, 'the interrupters reached the sleeper');
    Atomics.store(sleeperSync, 2, 1);
    sleeper.interrupt('stop');
    await within(sleeper.join());
    assert.equal(Atomics.load(sleeperSync, 3), 0, 'no foreign or torn reason reached the sleeper');
  });

  it("an interrupt racing the start of a thread's interruption-signal watcher always wakes it (the watcher count)", async () => {
    // An interrupt notifies the flag word only when the slot's watcher count says a watcher waits
    // there. Fails when the watcher does not count itself: an interrupt then never notifies its
    // flag word, and the watcher sleeps its 1 s slice with the flag set. (A count taken just
    // after the wait begins leaves a window of a few instructions, which real threads rarely hit:
    // test/control-block.test.ts pins the interrupter's order, the interleavings harness the model's.)
    const rounds = 2_000;
    const lateMs = 500;
    const sync = syncArray();
    const times = new SharedArrayBuffer(8);
    const watcher = new Thread(stress, {
      export: 'signalRace',
      args: [sync, rounds, lateMs, times],
      name: 'watcher',
    }).start();
    const interrupter = new Thread(stress, {
      export: 'signalRaceInterrupter',
      args: [sync, rounds, times],
      name: 'signal-interrupter',
    }).start();
    try {
      await within(Promise.all([watcher.join(), interrupter.join()]), 120_000);
    } finally {
      // On a failure, not left running into the next tests (which count live threads).
      await Promise.all([watcher.terminate(), interrupter.terminate()]);
    }
    assert.equal(Atomics.load(sync, 2), 0, `rounds whose abort came after ${lateMs} ms (slowest ${sync[3]} ms)`);
    assert.equal(Atomics.load(sync, 1), rounds);
  });

  it('threads start and end cleanly while another thread loops interruptAllThreads()', async () => {
    const sync = syncArray();
    const interrupter = new Thread(stress, { export: 'interruptLoop', args: [sync], name: 'interrupt-all' }).start();
    await waitFor(sync, 0, 1);
    let ended = 0;
    for (let batch = 0; batch < 20; batch++) {
      const threads = Array.from({ length: 8 }, () => new Thread(stress, { export: 'firstInstruction' }).start());
      await within(Promise.all(threads.map((thread) => thread.join())));
      for (const thread of threads) {
        assert.ok(['finished', 'interrupted'].includes(thread.state), `${thread.name} ${thread.state}`);
        ended++;
      }
      // Between batches, every free slot must be clean (no flag bits on a slot nobody holds).
      checkInvariants(state.registry!);
    }
    interrupter.interrupt();
    assert.ok(((await within(interrupter.join())) as number) >= 0);
    assert.equal(ended, 160);
    assert.equal(liveThreadCount(), 0);
    checkInvariants(state.registry!);
  });

  it("each thread's outcome reaches its join() exactly, across slots reused at once, while another thread loops interruptAllThreads()", async () => {
    // A thread ending on an interrupt says so in its slot, not in a message: an outcome left in
    // a slot by its last thread, or read from the next one's, would turn a returned value into
    // 'interrupted' or the reverse.
    const sync = syncArray();
    const interrupter = new Thread(stress, { export: 'interruptLoop', args: [sync], name: 'interrupt-all' }).start();
    await waitFor(sync, 0, 1);
    const hows = ['return', 'throw', 'catch'] as const;
    const counts = { return: 0, throw: 0, catch: 0 };
    for (let batch = 0; batch < 20; batch++) {
      const threads = Array.from({ length: 8 }, (_, i) => {
        const how = hows[Math.floor(Math.random() * hows.length)]!;
        const value = { batch, i };
        const thread = new Thread(stress, { export: 'endAs', args: [how, value] });
        // Half of them before start (the flag set from the first instruction), half after.
        if (how !== 'return' && i % 2 === 0) thread.interrupt('early');
        thread.start();
        if (how !== 'return' && i % 2 === 1) thread.interrupt('late');
        return { thread, how, value };
      });
      const results = await within(Promise.all(threads.map(({ thread }) => thread.join())));
      threads.forEach(({ thread, how, value }, i) => {
        counts[how]++;
        const context = `batch ${batch} thread ${i} (${how})`;
        if (how === 'throw') {
          assert.equal(results[i], undefined, context);
          assert.equal(thread.state, 'interrupted', context);
        } else {
          assert.deepEqual(results[i], value, context);
          assert.equal(thread.state, 'finished', context);
        }
      });
      checkInvariants(state.registry!);
    }
    interrupter.interrupt();
    await within(interrupter.join());
    assert.ok(counts.throw > 0 && counts.return > 0 && counts.catch > 0, JSON.stringify(counts));
    assert.equal(liveThreadCount(), 0);
    checkInvariants(state.registry!);
  });
});
