// The waits under real threads racing: thousands of rounds, waiters terminated while parked,
// and slots reused by new threads while stale queue entries remain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Barrier, Condition, Event, Lock, Thread } from 'graceful-threads';
import { enlisted, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/waits.mjs', import.meta.url);

function start(exportName: string, ...args: unknown[]): Thread {
  return new Thread(fixture, { export: exportName, args }).start();
}

describe('waits under stress', () => {
  it('waiters terminated while parked leave the lock working for the threads that reuse their slots', async () => {
    const lock = new Lock();
    lock.acquire();
    for (let wave = 0; wave < 5; wave++) {
      const doomed = Array.from({ length: 3 }, () => start('waitsOn', syncArray(), lock, 'acquire'));
      await enlisted(lock, 1, 3 * (wave + 1));
      await Promise.all(doomed.map((t) => t.terminate()));
    }
    // 15 stale entries: terminated threads never leave the queue. New threads take their slots.
    const sync = syncArray();
    const waiter = start('waitsOnAsync', sync, lock, 'acquireAsync');
    await waitFor(sync, 0, 1);
    await enlisted(lock, 1, 16);
    lock.release();
    assert.deepEqual(await within(waiter.join()), { returned: true });
    assert.equal(lock.tryAcquire(), false);
  });

  it('one set() wakes every waiter, in each word of the wait queue: 40 threads (slots past 32) and the main thread', async () => {
    const event = new Event();
    const last = new Event();
    const sync = syncArray();
    // The main thread's bit is the root's, in the queue's last word; the threads' are in words 0 and 1.
    const mainWait = event.waitAsync(120_000);
    const waiters = Array.from({ length: 40 }, () => start('waitsForBoth', sync, event, last));
    await enlisted(event, 2, 41, 60_000);
    event.set();
    // The test suite's park slice is long: a waiter the set() missed would stay parked. The threads
    // stay alive until `last` is set: a thread's end wakes its parent too.
    assert.equal(await within(mainWait), true);
    await waitFor(sync, 1, 40, 60_000);
    last.set();
    assert.deepEqual(
      await within(Promise.all(waiters.map((t) => t.join())), 60_000),
      Array(40).fill({ woken: true, last: true }),
    );
  });

  it('three threads take 3,000 turns through one condition without losing a notification', async () => {
    const condition = new Condition();
    const turn = new Int32Array(new SharedArrayBuffer(4));
    const players = Array.from({ length: 3 }, (_, me) => start('takeTurns', condition, turn, me, 3, 1_000));
    assert.deepEqual(await within(Promise.all(players.map((t) => t.join())), 120_000), ['done', 'done', 'done']);
    assert.equal(turn[0], 3_000);
  });

  it('notify(1) racing timeouts and interrupts: 1,000 rounds, never two waits notified', async () => {
    const condition = new Condition();
    const parties = 3;
    const rounds = 1_000;
    const sync = syncArray();
    const outcomes = new Int32Array(new SharedArrayBuffer(4 * parties * rounds));
    const waiters = Array.from({ length: parties }, (_, me) =>
      start('conditionRounds', sync, outcomes, condition, me, parties, rounds, 11 + me, me === 2),
    );
    for (let round = 0; round < rounds; round++) {
      Atomics.store(sync, 0, round + 1);
      Atomics.notify(sync, 0);
      // notify(1) and an interrupt at varied moments: before the waits, while they wait, as
      // they time out (0-4 ms), after they ended.
      const pause = (round * 7) % 6;
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause - 1));
      if (round % 3 === 1) waiters[round % parties]!.interrupt();
      condition.notify(1);
      if (round % 3 === 2) waiters[round % parties]!.interrupt();
      for (let me = 0; me < parties; me++) await waitFor(sync, 1 + me, round + 1);
      const notified = outcomes.subarray(round * parties, (round + 1) * parties).filter((o) => o === 1).length;
      assert.ok(notified <= 1, `round ${round}: ${notified} waits took one notify(1)`);
    }
    assert.deepEqual(await within(Promise.all(waiters.map((t) => t.join()))), Array(parties).fill('done'));
    // The race was run: some waits were notified, some timed out, some were interrupted.
    const seen = new Set(outcomes);
    assert.deepEqual([seen.has(1), seen.has(2), seen.has(3)], [true, true, true]);
  });

  it('four threads pass 2,000 barrier rounds, each released only once all have arrived', async () => {
    const rounds = 2_000;
    const barrier = new Barrier(4);
    const counts = new Int32Array(new SharedArrayBuffer(4 * rounds));
    const parties = Array.from({ length: 4 }, () => start('barrierRounds', barrier, counts, rounds));
    assert.deepEqual(await within(Promise.all(parties.map((t) => t.join())), 120_000), [-1, -1, -1, -1]);
    assert.equal(barrier.broken, false);
  });
});
