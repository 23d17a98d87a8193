// Lock, Event, Semaphore, Condition and Barrier between real threads: each behaviour a user relies
// on, and that every wait is an interruption point.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Barrier, Condition, Event, Lock, MAX_LIVE_THREADS, Queue, Semaphore, Thread } from 'graceful-threads';
import { enlisted, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/waits.mjs', import.meta.url);
/** A condition's own words: a record (tag, counts) per slot, the root's and other groups'. */
const CONDITION_WORDS = 2 * (MAX_LIVE_THREADS + 2);

type Outcome = { returned?: unknown; threw?: string; [key: string]: unknown };

function start(exportName: string, ...args: unknown[]): Thread {
  return new Thread(fixture, { export: exportName, args }).start();
}

/** Starts `waitsOn` (or its async form) blocking in primitive[method](...args), once enlisted. */
async function blockedIn(primitive: object, stateWords: number, method: string, ...args: unknown[]): Promise<Thread> {
  const sync = syncArray();
  const thread = start(method.endsWith('Async') ? 'waitsOnAsync' : 'waitsOn', sync, primitive, method, ...args);
  await waitFor(sync, 0, 1);
  await enlisted(primitive, stateWords);
  return thread;
}

async function outcomeOf(thread: Thread): Promise<Outcome> {
  return (await within(thread.join())) as Outcome;
}

describe('the error an interrupted wait throws', () => {
  // A wait builds the error it would throw while it blocks (its stack is what costs): each wait
  // must still throw its own, with the stack of the code that waited and the interrupt's reason.
  const cases: [string, () => { primitive: object | undefined; words: number | undefined }, string][] = [
    ['sleep()', () => ({ primitive: undefined, words: undefined }), 'sleep'],
    [
      'Lock.acquire()',
      () => {
        const lock = new Lock();
        lock.acquire(); // held here: the thread's acquire waits
        return { primitive: lock, words: 1 };
      },
      'acquire',
    ],
    ['Event.wait()', () => ({ primitive: new Event(), words: 2 }), 'wait'],
    ['Semaphore.acquire()', () => ({ primitive: new Semaphore(0), words: 2 }), 'acquire'],
    // Thrown once the lock is back, after the wait returned it (no rethrow on the way).
    ['Condition.wait()', () => ({ primitive: new Condition(), words: CONDITION_WORDS }), 'wait'],
    ['Queue.take()', () => ({ primitive: new Queue({ capacity: 2 }), words: 48 }), 'take'],
  ];
  for (const [name, make, method] of cases) {
    it(`${name}: its own error each time, naming the caller, with the reason`, async () => {
      const { primitive, words } = make();
      const sync = syncArray();
      const thread = start('interruptedThrice', sync, primitive, method);
      // Interrupted once blocked for a while, past where it builds its error ahead (sleep() and
      // the waits build it just before blocking): the delays only make that path likely, the
      // outcome must be the same either way. Two interrupts without a reason, from two callers,
      // then one with: a wait that kept its error for the next would throw it again.
      for (const [round, reason] of [
        [1, undefined],
        [2, undefined],
        [3, 'third'],
      ] as const) {
        await waitFor(sync, 0, round);
        if (primitive !== undefined && words !== undefined) await enlisted(primitive, words);
        await delay(20);
        thread.interrupt(reason);
      }
      assert.deepEqual(await outcomeOf(thread), {
        interrupted: [true, true, true],
        namesCaller: [true, true, true],
        reasons: [undefined, undefined, 'third'],
        messages: ['The thread was interrupted', 'The thread was interrupted', 'The thread was interrupted: third'],
        distinct: 3,
      });
    });
  }
});

describe('Lock', () => {
  it('8 threads x 100,000 locked increments give the exact count', async () => {
    const lock = new Lock();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const threads = Array.from({ length: 8 }, () => start('lockedIncrements', lock, counter, 100_000));
    assert.deepEqual(await within(Promise.all(threads.map((t) => t.join())), 120_000), Array(8).fill(true));
    assert.equal(counter[0], 800_000);
    assert.equal(lock.locked, false);
  });

  for (const method of ['acquire', 'acquireAsync']) {
    it(`an interrupt wakes a thread waiting in ${method}(), which throws without the lock`, async () => {
      const lock = new Lock();
      lock.acquire();
      const thread = await blockedIn(lock, 1, method);
      thread.interrupt();
      assert.deepEqual(await outcomeOf(thread), { threw: 'interrupted' });
      // Still the main thread's: release() would throw ERR_LOCK_NOT_HELD otherwise.
      lock.release();
      assert.equal(lock.locked, false);
    });

    it(`${method}() returns true once the holder releases, in another thread`, async () => {
      const lock = new Lock();
      lock.acquire();
      const thread = await blockedIn(lock, 1, method, 20_000);
      lock.release();
      assert.deepEqual(await outcomeOf(thread), { returned: true });
      // The thread ended holding it: nobody else can take it.
      assert.equal(lock.tryAcquire(), false);
    });
  }

  it('a wait entered interrupted throws at once, without taking a free lock', async () => {
    const lock = new Lock();
    assert.deepEqual(await outcomeOf(start('waitsInterrupted', lock, 'acquire')), {
      threw: 'interrupted',
      locked: false,
    });
  });

  it('keeps waiting inside a critical section, then returns with the lock', async () => {
    const lock = new Lock();
    lock.acquire();
    const sync = syncArray();
    const thread = start('acquiresInCriticalSection', sync, lock);
    await waitFor(sync, 0, 1);
    await enlisted(lock, 1);
    thread.interrupt();
    lock.release();
    assert.deepEqual(await outcomeOf(thread), { returned: true, interrupted: true });
  });

  it('times out with false, as a normal result', () => {
    const lock = new Lock();
    lock.acquire();
    // Held by this very thread: acquire() would throw; tryAcquire and a timeout from another
    // holder are the normal results.
    assert.equal(lock.tryAcquire(), false);
    assert.throws(() => lock.acquire(10), { code: 'ERR_LOCK_ALREADY_HELD' });
    lock.release();
  });

  it('a timed acquire in another thread returns false while the lock stays held', async () => {
    const lock = new Lock();
    lock.acquire();
    const thread = start('waitsOn', syncArray(), lock, 'acquire', 30);
    assert.deepEqual(await outcomeOf(thread), { returned: false });
    lock.release();
  });

  it('release() by a thread that does not hold it throws ERR_LOCK_NOT_HELD', async () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), { code: 'ERR_LOCK_NOT_HELD' });
    lock.acquire();
    assert.deepEqual(await outcomeOf(start('releasesForeign', lock)), { threw: 'ERR_LOCK_NOT_HELD' });
    assert.equal(lock.locked, true);
    lock.release();
  });

  it('hold() releases at the end of the block, also on a throw; holdAsync() too', async () => {
    const lock = new Lock();
    assert.throws(() => {
      using _ = lock.hold();
      assert.equal(lock.locked, true);
      throw new Error('boom');
    }, /boom/);
    assert.equal(lock.locked, false);
    {
      using _ = await lock.holdAsync();
      assert.equal(lock.tryAcquire(), false);
    }
    assert.equal(lock.locked, false);
  });

  it('two async functions of one thread take it in turn', async () => {
    const lock = new Lock();
    await lock.acquireAsync();
    let second = false;
    const pending = lock.acquireAsync().then((taken) => {
      second = taken;
    });
    await delay(5);
    assert.equal(second, false);
    lock.release();
    await within(pending);
    assert.equal(second, true);
    lock.release();
  });

  it('bad timeouts are coded errors', () => {
    const lock = new Lock();
    assert.throws(() => lock.acquire(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => lock.acquire(Number.NaN), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => lock.acquire('1' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(lock.locked, false);
  });
});

describe('shared objects in args', () => {
  it('arrive at any depth as working instances of their class, one per object', async () => {
    const lock = new Lock();
    const event = new Event();
    event.set();
    const semaphore = new Semaphore(2);
    const condition = new Condition(lock);
    const barrier = new Barrier(3);
    const value = {
      nested: { lock },
      again: lock,
      list: [event],
      map: new Map([['s', semaphore]]),
      set: new Set([condition]),
      barrier,
    };
    assert.deepEqual(await outcomeOf(start('kinds', value)), {
      lock: true,
      event: true,
      semaphore: true,
      condition: true,
      conditionLock: true,
      barrier: true,
      same: true,
      eventSet: true,
      permits: 2,
    });
    // The caller's args are not changed by sending them.
    assert.equal(value.nested.lock, lock);
    assert.equal(value.map.get('s'), semaphore);
  });
});

describe('Event', () => {
  for (const method of ['wait', 'waitAsync']) {
    it(`${method}() returns true once another thread sets it, false on timeout, throws on interrupt`, async () => {
      const event = new Event();
      const setter = await blockedIn(event, 2, method, 20_000);
      event.set();
      assert.deepEqual(await outcomeOf(setter), { returned: true });

      event.clear();
      assert.equal(event.isSet(), false);
      const timed = start(method === 'wait' ? 'waitsOn' : 'waitsOnAsync', syncArray(), event, method, 20);
      assert.deepEqual(await outcomeOf(timed), { returned: false });

      const interrupted = await blockedIn(event, 2, method);
      interrupted.interrupt();
      assert.deepEqual(await outcomeOf(interrupted), { threw: 'interrupted' });
    });
  }

  it('a set event lets every wait through at once', async () => {
    const event = new Event();
    event.set();
    assert.equal(event.wait(), true);
    assert.equal(await event.waitAsync(0), true);
  });
});

describe('Semaphore', () => {
  it('a pending acquire(n) holds no permits while it waits', async () => {
    const semaphore = new Semaphore(1);
    const thread = await blockedIn(semaphore, 2, 'acquire', 2, 20_000);
    // The waiter wants 2 of the 1 there is: it must not have taken the 1.
    assert.equal(semaphore.tryAcquire(1), true);
    semaphore.release(2);
    assert.deepEqual(await outcomeOf(thread), { returned: true });
    assert.equal(semaphore.available, 0);
  });

  it('an interrupted acquire takes nothing', async () => {
    const semaphore = new Semaphore(0);
    const thread = await blockedIn(semaphore, 2, 'acquireAsync', 1);
    thread.interrupt();
    assert.deepEqual(await outcomeOf(thread), { threw: 'interrupted' });
    semaphore.release();
    assert.equal(semaphore.available, 1);
  });

  it('a bounded semaphore refuses a release past max, unchanged', () => {
    const semaphore = new Semaphore(1, { max: 2 });
    semaphore.release();
    assert.throws(() => semaphore.release(), { name: 'RangeError', code: 'ERR_SEMAPHORE_OVERFLOW' });
    assert.equal(semaphore.available, 2);
    assert.throws(() => semaphore.acquire(3), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  });

  it('bad counts are coded errors', () => {
    assert.throws(() => new Semaphore(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Semaphore(Number.NaN), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Semaphore(1.5), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Semaphore('1' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Semaphore(2, { max: 1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    const semaphore = new Semaphore(1);
    assert.throws(() => semaphore.acquire(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => semaphore.release(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => semaphore.acquire(1, -5), { code: 'ERR_OUT_OF_RANGE' });
    assert.equal(semaphore.available, 1);
  });

  it('conserves permits under random interrupts and timeouts', async () => {
    const semaphore = new Semaphore(3);
    const sync = syncArray();
    const threads = Array.from({ length: 4 }, (_, i) => start('semaphoreChurn', sync, semaphore, i + 1));
    // Interrupt at random while they churn, until enough of each outcome has happened.
    const deadline = performance.now() + 60_000;
    while (Atomics.load(sync, 3) < 200 || Atomics.load(sync, 1) < 2_000 || Atomics.load(sync, 2) < 50) {
      assert.ok(performance.now() < deadline, `not enough churn: ${[...sync.slice(1, 4)]}`);
      threads[Math.floor(Math.random() * threads.length)]!.interrupt();
      await delay(Math.random() < 0.5 ? 0 : 1);
    }
    Atomics.store(sync, 0, 1);
    for (const thread of threads) thread.interrupt();
    assert.deepEqual(await within(Promise.all(threads.map((t) => t.join())), 60_000), Array(4).fill('done'));
    assert.equal(semaphore.available, 3);
  });
});

describe('Condition', () => {
  it('wait() without holding the lock throws ERR_LOCK_NOT_HELD', async () => {
    const condition = new Condition();
    assert.throws(() => condition.wait(), { code: 'ERR_LOCK_NOT_HELD' });
    await assert.rejects(condition.waitAsync(), { code: 'ERR_LOCK_NOT_HELD' });
    assert.throws(() => condition.waitFor(() => true), { code: 'ERR_LOCK_NOT_HELD' });
  });

  it('notify() wakes exactly one waiter', async () => {
    const condition = new Condition();
    const sync = syncArray();
    // Timed waits: the two not notified return false. One notified but slow to wake counts as
    // notified all the same (its notification is waiting for it).
    const threads = Array.from({ length: 3 }, () => start('conditionWaiter', sync, condition, 1_500));
    await waitFor(sync, 0, 3);
    await enlisted(condition, CONDITION_WORDS, 3);
    condition.notify();
    const outcomes = (await within(Promise.all(threads.map((t) => t.join())))) as Outcome[];
    assert.deepEqual(outcomes.map((o) => o.returned).sort(), [false, false, true]);
    assert.ok(outcomes.every((o) => o.heldAgain));
  });

  it('notifyAll() wakes every waiter, each holding the lock again in turn', async () => {
    const condition = new Condition();
    const sync = syncArray();
    const threads = Array.from({ length: 3 }, () => start('conditionWaiter', sync, condition, 60_000));
    await waitFor(sync, 0, 3);
    await enlisted(condition, CONDITION_WORDS, 3);
    condition.notifyAll();
    const outcomes = await within(Promise.all(threads.map((t) => t.join())));
    assert.deepEqual(outcomes, Array(3).fill({ returned: true, heldAgain: true }));
  });

  it('a notify with no waiter is not remembered', async () => {
    const condition = new Condition();
    condition.notify();
    condition.notifyAll();
    assert.deepEqual(await outcomeOf(start('conditionWaiter', syncArray(), condition, 30)), {
      returned: false,
      heldAgain: true,
    });
  });

  it('an interrupted wait takes the lock back before the error reaches the caller', async () => {
    const condition = new Condition();
    const sync = syncArray();
    const thread = start('conditionWaiter', sync, condition, 60_000);
    await waitFor(sync, 0, 1);
    await enlisted(condition, CONDITION_WORDS);
    // Hold the lock: the waiter cannot take it back, so it cannot throw, until released.
    condition.lock.acquire();
    thread.interrupt();
    await enlisted(condition.lock, 1);
    assert.equal(Atomics.load(sync, 1), 0);
    condition.lock.release();
    assert.deepEqual(await outcomeOf(thread), { threw: 'interrupted', heldAgain: true });
  });

  it('waitFor() returns the predicate once true, false after the timeout', () => {
    const condition = new Condition();
    using _ = condition.lock.hold();
    assert.equal(
      condition.waitFor(() => true),
      true,
    );
    assert.equal(
      condition.waitFor(() => false, 20),
      false,
    );
  });
});

describe('Barrier', () => {
  it('releases all parties together, each with its own arrival index, round after round', async () => {
    const barrier = new Barrier(3);
    for (let round = 0; round < 3; round++) {
      const sync = syncArray();
      const threads = Array.from({ length: 3 }, () => start('barrierParty', sync, barrier, 60_000));
      const outcomes = (await within(Promise.all(threads.map((t) => t.join())))) as Outcome[];
      assert.deepEqual(outcomes.map((o) => o.returned).sort(), [0, 1, 2]);
    }
    assert.equal(barrier.broken, false);
  });

  it('a waiter that times out breaks it and gets undefined; the others throw ERR_BARRIER_BROKEN', async () => {
    const barrier = new Barrier(3);
    const sync = syncArray();
    const waiter = start('barrierParty', sync, barrier, 60_000);
    await waitFor(sync, 0, 1);
    await enlisted(barrier, 2);
    assert.equal(barrier.wait(20), undefined);
    assert.deepEqual(await outcomeOf(waiter), { threw: 'ERR_BARRIER_BROKEN' });
    assert.equal(barrier.broken, true);
    assert.throws(() => barrier.wait(), { code: 'ERR_BARRIER_BROKEN' });
    barrier.reset();
    assert.equal(barrier.broken, false);
  });

  it('an interrupted waiter breaks it', async () => {
    const barrier = new Barrier(3);
    const sync = syncArray();
    const [a, b] = [start('barrierParty', sync, barrier, 60_000), start('barrierParty', sync, barrier, 60_000)];
    await waitFor(sync, 0, 2);
    await enlisted(barrier, 2, 2);
    a!.interrupt();
    assert.deepEqual(await outcomeOf(a!), { threw: 'interrupted' });
    assert.deepEqual(await outcomeOf(b!), { threw: 'ERR_BARRIER_BROKEN' });
    assert.equal(barrier.broken, true);
  });

  it('reset() breaks the current waiters and leaves it usable', async () => {
    const barrier = new Barrier(2);
    const sync = syncArray();
    const waiter = start('barrierParty', sync, barrier, 60_000);
    await waitFor(sync, 0, 1);
    await enlisted(barrier, 2);
    barrier.reset();
    assert.deepEqual(await outcomeOf(waiter), { threw: 'ERR_BARRIER_BROKEN' });
    assert.equal(barrier.broken, false);
    const again = start('barrierParty', syncArray(), barrier, 60_000);
    const mine = await within(barrier.waitAsync(60_000));
    const theirs = (await outcomeOf(again)).returned;
    assert.deepEqual([mine, theirs].sort(), [0, 1]);
  });

  it('bad parties are coded errors', () => {
    assert.throws(() => new Barrier(0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Barrier(70_000), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Barrier('2' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});
