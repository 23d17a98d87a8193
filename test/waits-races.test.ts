// The waits where two things happen at once: handoffs back and forth thousands of times (a lost
// wake-up hangs: tests park without the production one-second re-check), an interrupt or a
// timeout racing a notify or a barrier's release, waiters terminated while enlisted, and args
// that refer to themselves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Barrier, Condition, Event, Lock, MAX_LIVE_THREADS, Semaphore, Thread } from 'graceful-threads';
import { enlisted, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/waits.mjs', import.meta.url);
const CONDITION_WORDS = 2 * (MAX_LIVE_THREADS + 2);

type Outcome = { returned?: unknown; threw?: string };

function start(exportName: string, ...args: unknown[]): Thread {
  return new Thread(fixture, { export: exportName, args }).start();
}

describe('handoffs', () => {
  for (const awaited of [false, true]) {
    it(`2,000 semaphore ping-pongs between two threads${awaited ? ', awaited' : ''}`, async () => {
      const [ping, pong] = [new Semaphore(0), new Semaphore(0)];
      const sides = [0, 1].map((side) => start('pingPong', ping, pong, 2_000, side, awaited));
      assert.deepEqual(await within(Promise.all(sides.map((t) => t.join())), 60_000), ['done', 'done']);
      assert.equal(ping.available + pong.available, 0);
    });
  }

  it('2,000 ping-pongs between the main thread, awaiting, and a thread', async () => {
    const [ping, pong] = [new Semaphore(0), new Semaphore(0)];
    const thread = start('pingPong', ping, pong, 2_000, 0, false);
    for (let i = 0; i < 2_000; i++) {
      ping.release();
      assert.equal(await pong.acquireAsync(), true);
    }
    assert.equal(await within(thread.join()), 'done');
  });
});

describe('races', () => {
  it('an interrupt racing notify(1) with two waiters: the notification is used exactly once', async () => {
    for (let round = 0; round < 30; round++) {
      const condition = new Condition();
      const sync = syncArray();
      const [first, second] = [
        start('conditionWaiter', sync, condition, 1_500),
        start('conditionWaiter', sync, condition, 1_500),
      ];
      await waitFor(sync, 0, 2);
      await enlisted(condition, CONDITION_WORDS, 2);
      if (round % 2 === 0) {
        condition.notify();
        first!.interrupt();
      } else {
        first!.interrupt();
        condition.notify();
      }
      const outcomes = (await within(Promise.all([first!.join(), second!.join()]))) as Outcome[];
      // The interrupted one throws, unless it took the notification before it saw the interrupt.
      const notified = outcomes.filter((o) => o.returned === true).length;
      assert.equal(notified, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
    }
  });

  it('a timeout racing notify(1): a notification that came too late is not left for the next wait', async () => {
    for (let round = 0; round < 40; round++) {
      const condition = new Condition();
      const sync = syncArray();
      const waiter = start('conditionTwice', sync, condition, 1 + (round % 4), 40);
      await waitFor(sync, 0, 1);
      await new Promise((resolve) => setTimeout(resolve, round % 5));
      condition.notify();
      const { first, second } = (await within(waiter.join())) as { first: boolean; second: boolean };
      // The notify may land on the first wait, or after it timed out (then on nobody, or on the
      // second wait if it began first); never on both, never kept from the first for the second.
      assert.ok(!(first && second), `round ${round}: both waits took one notification`);
    }
  });

  it('a timeout racing the last arrival at a barrier: both go on, or the barrier broke for both', async () => {
    for (let round = 0; round < 40; round++) {
      const barrier = new Barrier(2);
      const sync = syncArray();
      const party = start('barrierParty', sync, barrier, 1 + (round % 4));
      await waitFor(sync, 0, 1);
      await new Promise((resolve) => setTimeout(resolve, round % 5));
      let mine: number | undefined | string;
      try {
        mine = barrier.wait(10_000);
      } catch (error) {
        mine = (error as { code?: string }).code;
      }
      const theirs = ((await within(party.join())) as Outcome).returned;
      const pair = [mine, theirs];
      const released = pair.includes(0) && pair.includes(1);
      const broke = theirs === undefined && mine === 'ERR_BARRIER_BROKEN';
      assert.ok(released || broke, `round ${round}: ${JSON.stringify(pair)}`);
    }
  });
});

describe('edges the review found', () => {
  it('a waiter terminated while waiting on a condition does not swallow the next notify', async () => {
    const condition = new Condition();
    const sync = syncArray();
    const doomed = start('conditionWaiter', sync, condition, 60_000);
    const survivor = start('conditionWaiter', sync, condition, 60_000);
    await waitFor(sync, 0, 2);
    await enlisted(condition, CONDITION_WORDS, 2);
    await doomed.terminate();
    condition.notify();
    assert.deepEqual(await within(survivor.join()), { returned: true, heldAgain: true });
  });

  it('set(); clear(); releases the threads that were waiting', async () => {
    const event = new Event();
    const sync = syncArray();
    const waiter = start('eventWaiter', sync, event, 60_000);
    await waitFor(sync, 0, 1);
    await enlisted(event, 2);
    event.set();
    event.clear();
    assert.equal(await within(waiter.join()), true);
  });

  it('a blocking wait takes a notification while an older async wait of its thread is pending', async () => {
    const condition = new Condition();
    const sync = syncArray();
    const thread = start('blockingAfterAsync', sync, condition);
    await waitFor(sync, 0, 1);
    await enlisted(condition, CONDITION_WORDS, 1);
    // Taking the lock proves the thread let go of it: it is inside its blocking wait. Its async
    // wait cannot run while that blocks, so the blocking one must take the notification.
    condition.lock.acquire();
    condition.lock.release();
    condition.notify();
    assert.deepEqual(await within(thread.join()), { blocking: { returned: true }, pending: 'settled' });
  });

  it('args that refer to themselves arrive with the same shape, the lock inside working', async () => {
    const lock = new Lock();
    const value: Record<string, unknown> = { lock };
    value.self = value;
    assert.deepEqual(await within(start('cyclic', value).join()), { self: true, lock: true, same: true });
  });

  it('a shared object inside a class instance is refused at start(), not sent broken', () => {
    class Holder {
      constructor(readonly lock: Lock) {}
    }
    const thread = new Thread(fixture, { export: 'cyclic', args: [new Holder(new Lock())] });
    assert.throws(() => thread.start(), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });
});
