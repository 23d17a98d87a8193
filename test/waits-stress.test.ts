// The waits under real threads racing: thousands of rounds, waiters terminated while parked,
// and slots reused by new threads while stale queue entries remain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Barrier, Condition, Lock, Thread } from 'graceful-threads';
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

  it('three threads take 3,000 turns through one condition without losing a notification', async () => {
    const condition = new Condition();
    const turn = new Int32Array(new SharedArrayBuffer(4));
    const players = Array.from({ length: 3 }, (_, me) => start('takeTurns', condition, turn, me, 3, 1_000));
    assert.deepEqual(await within(Promise.all(players.map((t) => t.join())), 120_000), ['done', 'done', 'done']);
    assert.equal(turn[0], 3_000);
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
