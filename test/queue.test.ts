// Queue between real threads: each behaviour a user relies on, that every wait is an
// interruption point that never loses an item, and exactly-once delivery under load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Lock, MAX_LIVE_THREADS, Queue, Thread } from 'graceful-threads';
import { waitQueueWords } from '../src/waits/wait-queue.ts';
import { enlisted, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/queue.mjs', import.meta.url);
const DESCRIBE = Symbol.for('graceful-threads.describe-shared.v1');
// Where a queue counts its enlisted waiters: the takers' wait queue follows its 48 state
// words, the putters' follows that (src/waits/queue.ts).
const TAKERS = 48;
const PUTTERS = 48 + waitQueueWords(MAX_LIVE_THREADS);

type Outcome = { returned?: unknown; threw?: string; [key: string]: unknown };

function start(exportName: string, ...args: unknown[]): Thread {
  return new Thread(fixture, { export: exportName, args }).start();
}

/** Starts a thread calling queue[method](...args) and resolves once it waits in it. */
async function blockedIn(queue: Queue, method: string, ...args: unknown[]): Promise<Thread> {
  return startBlocked(method.endsWith('Async') ? 'callsOnAsync' : 'callsOn', queue, method, ...args);
}

/** The same, with a thread that also reports when the call returned (`at`). */
async function blockedInTimed(queue: Queue, method: string, ...args: unknown[]): Promise<Thread> {
  return startBlocked('callsOnTimed', queue, method, ...args);
}

async function startBlocked(exportName: string, queue: Queue, method: string, ...args: unknown[]): Promise<Thread> {
  const sync = syncArray();
  const thread = start(exportName, sync, queue, method, ...args);
  await waitFor(sync, 0, 1);
  await enlisted(queue, method.startsWith('put') ? PUTTERS : TAKERS);
  return thread;
}

/** How many times a thread asked for a side-path value it lacked (the queue's word 32). */
function needsOf(queue: Queue): number {
  const { buffer } = (queue as unknown as { [DESCRIBE](): { buffer: SharedArrayBuffer } })[DESCRIBE]();
  return Atomics.load(new Int32Array(buffer), 32);
}

async function outcomeOf(thread: Thread): Promise<Outcome> {
  return (await within(thread.join())) as Outcome;
}

/** Everything `queue` holds, taken in order (the queue is left empty). */
function drain(queue: Queue): unknown[] {
  const items: unknown[] = [];
  for (let item = queue.tryTake(); item !== undefined; item = queue.tryTake()) items.push(item);
  return items;
}

/** Values whose structured clones differ from them in ways a hand-written codec gets wrong. */
function tricky(): unknown[] {
  const shared = { n: 1 };
  const sparse = [1, 2, 3];
  delete sparse[1]; // a hole
  const withExtra = Object.assign([1, 2], { extra: 'x' });
  const nullProto = Object.assign(Object.create(null), { b: 2, a: 1 });
  class Point {
    constructor(
      public x: number,
      public y: number,
    ) {}
  }
  return [
    0,
    -0,
    Number.NaN,
    -Infinity,
    2 ** 31,
    -(2 ** 31) - 1,
    0.1,
    '',
    'plain',
    'caf\u00e9 \u00ff',
    'snow \u2603 and \ud83d\ude00',
    'lone \ud800 high and \udc00 low',
    true,
    false,
    null,
    { a: 1, b: 'two', c: [3, { d: null }], e: undefined },
    { 2: 'two', 1: 'one', b: 'b', a: 'a' },
    { label: 'shared identity', a: shared, b: shared },
    sparse,
    withExtra,
    nullProto,
    new Point(1, 2),
    [[], {}, [[-0]]],
    new Date(86_400_000),
    /x+/gi,
    new Map<unknown, unknown>([[1, { m: true }]]),
    new Set(['s']),
    new Uint8Array([1, 2, 3]),
    new Float64Array([-0, Number.NaN]),
    2n ** 80n,
    new Error('boom'),
    Object.assign(new Number(5), {}),
  ];
}

describe('Queue', () => {
  it('carries values between threads in FIFO order, as structured clone copies them', async () => {
    const values = tricky();
    const queue = new Queue({ capacity: values.length });
    for (const value of values) assert.equal(queue.put(value), true);
    assert.equal(queue.size, values.length);
    const { items, sameObjectTwice } = (await within(start('receives', queue, values.length).join())) as {
      items: unknown[];
      sameObjectTwice: boolean;
    };
    // Crossing back (the thread's result) is a structured clone too, which changes none of it.
    assert.deepStrictEqual(
      items,
      values.map((v) => structuredClone(v)),
    );
    assert.ok(Object.is(items[1], -0));
    assert.equal(sameObjectTwice, true);
    assert.equal(queue.size, 0);
  });

  it('a take in the same thread gets a copy, equal to what structuredClone gives', () => {
    const queue = new Queue<unknown>({ capacity: 64 });
    for (const value of tricky()) {
      queue.put(value);
      const taken = queue.take();
      assert.deepStrictEqual(taken, structuredClone(value));
      if (typeof value === 'object' && value !== null) assert.notEqual(taken, value);
    }
    // Also on the side path (an item holding shared memory): a copy, the buffer shared.
    const buffer = new SharedArrayBuffer(4);
    const original = { buffer, data: { x: 1 } };
    queue.put(original);
    original.data.x = 2;
    const copy = queue.take() as typeof original;
    assert.notEqual(copy, original);
    assert.deepEqual(copy.data, { x: 1 });
    new Int32Array(copy.buffer)[0] = 7;
    assert.equal(new Int32Array(buffer)[0], 7);
    const getterRuns: string[] = [];
    const withGetters = {
      get a() {
        getterRuns.push('a');
        delete (this as { b?: number }).b;
        return 1;
      },
      b: 2,
      c: 3,
    };
    queue.put(withGetters);
    // The getter ran once, and b, deleted by it before it was read, is skipped as structuredClone skips it.
    assert.deepStrictEqual(queue.take(), { a: 1, c: 3 });
    assert.deepEqual(getterRuns, ['a']);
    const ownProto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    queue.put(ownProto);
    const ownCopy = queue.take() as object;
    assert.deepStrictEqual(Object.getOwnPropertyNames(ownCopy), ['__proto__', 'y']);
    assert.equal(Object.getPrototypeOf(ownCopy), Object.prototype);
  });

  it('put() and take() wait for each other across threads, and wake each other at once', async () => {
    // A lost wake-up is made up for by the waiter's 1 s safety slice: only the time tells.
    const promptly = async (thread: Thread, before: bigint, expected: unknown): Promise<void> => {
      const { at, ...outcome } = (await outcomeOf(thread)) as Outcome & { at: bigint };
      assert.deepEqual(outcome, { returned: expected });
      const ms = Number(at - before) / 1e6;
      assert.ok(ms < 500, `woken after ${ms.toFixed(0)} ms`);
    };
    for (const capacity of [1, 2, 16]) {
      for (const method of ['take', 'takeAsync']) {
        const queue = new Queue({ capacity });
        const taker = await blockedInTimed(queue, method, 20_000);
        const before = process.hrtime.bigint();
        queue.put({ hello: method });
        await promptly(taker, before, { hello: method });
        assert.equal(queue.size, 0);
      }
      for (const method of ['put', 'putAsync']) {
        const queue = new Queue({ capacity });
        for (let i = 0; i < capacity; i++) queue.put(`first ${i}`);
        const putter = await blockedInTimed(queue, method, 'last', 20_000);
        assert.equal(queue.size, capacity);
        const before = process.hrtime.bigint();
        assert.equal(queue.take(), 'first 0');
        await promptly(putter, before, true);
        assert.deepEqual(drain(queue), [...Array.from({ length: capacity - 1 }, (_, i) => `first ${i + 1}`), 'last']);
      }
    }
  });

  it('times out with undefined / false, as a normal result, having changed nothing', async () => {
    const queue = new Queue({ capacity: 1 });
    assert.equal(queue.take(10), undefined);
    assert.equal(await queue.takeAsync(10), undefined);
    assert.equal(queue.tryTake(), undefined);
    queue.put(1);
    assert.equal(queue.put(2, 10), false);
    assert.equal(await queue.putAsync(2, 10), false);
    assert.equal(queue.tryPut(2), false);
    assert.equal(queue.put(2, 0), false);
    // From another thread too.
    assert.deepEqual(await outcomeOf(start('callsOn', syncArray(), queue, 'put', 3, 30)), { returned: false });
    assert.deepEqual(drain(queue), [1]);
    assert.deepEqual(await outcomeOf(start('callsOn', syncArray(), queue, 'take', 30)), { returned: undefined });
  });

  for (const method of ['take', 'takeAsync']) {
    it(`an interrupt wakes a thread waiting in ${method}(), which throws having taken nothing`, async () => {
      const queue = new Queue({ capacity: 2 });
      const thread = await blockedIn(queue, method);
      thread.interrupt();
      assert.deepEqual(await outcomeOf(thread), { threw: 'interrupted' });
      queue.put('kept');
      assert.deepEqual(drain(queue), ['kept']);
    });
  }

  for (const method of ['put', 'putAsync']) {
    it(`an interrupt wakes a thread waiting in ${method}(), which throws having put nothing`, async () => {
      const queue = new Queue({ capacity: 2 });
      queue.put('a');
      queue.put('b');
      const thread = await blockedIn(queue, method, 'never');
      thread.interrupt();
      assert.deepEqual(await outcomeOf(thread), { threw: 'interrupted' });
      assert.deepEqual(drain(queue), ['a', 'b']);
    });
  }

  it('a wait entered interrupted throws at once, even with an item or room there, changing nothing', async () => {
    const queue = new Queue({ capacity: 2 });
    queue.put('there');
    for (const method of ['take', 'takeAsync', 'put', 'putAsync']) {
      const args = method.startsWith('put') ? ['more'] : [];
      assert.deepEqual(await outcomeOf(start('callsInterrupted', queue, method, ...args)), { threw: 'interrupted' });
    }
    assert.deepEqual(drain(queue), ['there']);
  });

  it('keeps waiting inside a critical section, then returns the item', async () => {
    const queue = new Queue({ capacity: 1 });
    const sync = syncArray();
    const thread = start('takesInCriticalSection', sync, queue);
    await waitFor(sync, 0, 1);
    await enlisted(queue, TAKERS);
    thread.interrupt();
    await delay(20);
    queue.put('late');
    assert.deepEqual(await outcomeOf(thread), { returned: 'late', interrupted: true });
  });

  describe('close()', () => {
    it('refuses later puts; takers drain what is left, then get ERR_QUEUE_CLOSED', async () => {
      const queue = new Queue({ capacity: 4 });
      queue.put(1);
      queue.put(2);
      queue.close();
      queue.close(); // harmless
      assert.equal(queue.closed, true);
      assert.throws(() => queue.put(3), { code: 'ERR_QUEUE_CLOSED' });
      assert.throws(() => queue.tryPut(3), { code: 'ERR_QUEUE_CLOSED' });
      await assert.rejects(queue.putAsync(3), { code: 'ERR_QUEUE_CLOSED' });
      assert.equal(queue.take(), 1);
      assert.equal(queue.tryTake(), 2);
      assert.throws(() => queue.take(), { code: 'ERR_QUEUE_CLOSED' });
      assert.throws(() => queue.tryTake(), { code: 'ERR_QUEUE_CLOSED' });
      await assert.rejects(queue.takeAsync(), { code: 'ERR_QUEUE_CLOSED' });
      assert.equal(queue.size, 0);
    });

    it('wakes threads waiting to take, which throw ERR_QUEUE_CLOSED', async () => {
      const queue = new Queue({ capacity: 1 });
      const sync = await blockedIn(queue, 'take');
      const async = await blockedIn(queue, 'takeAsync');
      queue.close();
      assert.deepEqual(await outcomeOf(sync), { threw: 'ERR_QUEUE_CLOSED' });
      assert.deepEqual(await outcomeOf(async), { threw: 'ERR_QUEUE_CLOSED' });
    });

    it('wakes threads waiting to put, which throw ERR_QUEUE_CLOSED having put nothing', async () => {
      const queue = new Queue({ capacity: 1 });
      queue.put('only');
      const sync = await blockedIn(queue, 'put', 'a');
      const async = await blockedIn(queue, 'putAsync', 'b');
      queue.close();
      assert.deepEqual(await outcomeOf(sync), { threw: 'ERR_QUEUE_CLOSED' });
      assert.deepEqual(await outcomeOf(async), { threw: 'ERR_QUEUE_CLOSED' });
      assert.equal(queue.take(), 'only');
      assert.throws(() => queue.take(), { code: 'ERR_QUEUE_CLOSED' });
    });

    for (const exportName of ['iterates', 'iteratesAsync']) {
      it(`ends ${exportName === 'iterates' ? 'for...of' : 'for await...of'} once drained`, async () => {
        const queue = new Queue<number>({ capacity: 4 });
        const thread = start(exportName, queue);
        for (let i = 0; i < 50; i++) await queue.putAsync(i);
        queue.close();
        assert.deepEqual(
          await within(thread.join()),
          Array.from({ length: 50 }, (_, i) => i),
        );
      });
    }
  });

  describe('refused items', () => {
    it('undefined is refused with ERR_INVALID_ARG_VALUE (take() returns it on a timeout)', async () => {
      const queue = new Queue({ capacity: 2 });
      assert.throws(() => queue.put(undefined), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => queue.tryPut(undefined), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(queue.putAsync(undefined), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      assert.equal(queue.size, 0);
    });

    it('a non-cloneable item is refused with ERR_QUEUE_ITEM_NOT_CLONEABLE, and nothing is lost', async () => {
      const queue = new Queue({ capacity: 3 });
      queue.put({ id: 1 });
      const { port1 } = new MessageChannel();
      const thrown = new Error('getter says no');
      const refused: unknown[] = [
        () => 1,
        Symbol('s'),
        { nested: { fn: () => 1 } },
        [1, Symbol.iterator],
        new Proxy({}, {}),
        { port: port1 },
        {
          get bad() {
            throw thrown;
          },
        },
      ];
      for (const item of refused) {
        assert.throws(() => queue.put(item, 0), { name: 'TypeError', code: 'ERR_QUEUE_ITEM_NOT_CLONEABLE' });
        assert.throws(() => queue.tryPut(item), { code: 'ERR_QUEUE_ITEM_NOT_CLONEABLE' });
        await assert.rejects(queue.putAsync(item), { code: 'ERR_QUEUE_ITEM_NOT_CLONEABLE' });
      }
      assert.throws(
        () => queue.put(refused.at(-1)),
        (error: { cause?: unknown }) => error.cause === thrown,
      );
      port1.close();
      queue.put({ id: 2 });
      assert.deepEqual(drain(queue), [{ id: 1 }, { id: 2 }]);
    });

    it('an item over maxItemBytes is refused with a RangeError, the queue unchanged', async () => {
      const queue = new Queue({ capacity: 3, maxItemBytes: 64 });
      assert.equal(queue.maxItemBytes, 64);
      queue.put('x'.repeat(50));
      for (const item of ['y'.repeat(65), '\u2603'.repeat(40), { list: Array(40).fill(1) }, new Uint8Array(100)]) {
        assert.throws(() => queue.put(item), { name: 'RangeError', code: 'ERR_QUEUE_ITEM_TOO_LARGE' });
        assert.throws(() => queue.tryPut(item), { name: 'RangeError', code: 'ERR_QUEUE_ITEM_TOO_LARGE' });
        await assert.rejects(queue.putAsync(item), { code: 'ERR_QUEUE_ITEM_TOO_LARGE' });
      }
      assert.equal(queue.size, 1);
      queue.put(new Uint8Array(8));
      assert.deepEqual(drain(queue), ['x'.repeat(50), new Uint8Array(8)]);
    });

    it('bad options and timeouts are coded errors', () => {
      assert.throws(() => new Queue(undefined as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => new Queue({} as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      for (const capacity of [0, -1, 1.5, Number.NaN, 2 ** 21]) {
        assert.throws(() => new Queue({ capacity }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      }
      assert.throws(() => new Queue({ capacity: 1, maxItemBytes: 4 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Queue({ capacity: 2 ** 20, maxItemBytes: 2 ** 20 }), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
      });
      const queue = new Queue({ capacity: 1 });
      assert.equal(queue.capacity, 1);
      assert.throws(() => queue.take(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => queue.take(Number.NaN), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => queue.put(1, '5' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(queue.size, 0);
    });
  });

  describe('shared objects as items', () => {
    it('a Lock, a Queue and a SharedArrayBuffer in an item arrive sharing their state', async () => {
      const queue = new Queue({ capacity: 2 });
      const reply = new Queue<{ seen: number }>({ capacity: 1 });
      const lock = new Lock();
      const buffer = new SharedArrayBuffer(4);
      const sync = syncArray();
      const thread = start('usesSharedItem', sync, queue);
      await waitFor(sync, 1, 1);
      lock.acquire();
      new Int32Array(buffer)[0] = 42;
      queue.put({ lock, again: lock, reply, buffer });
      Atomics.store(sync, 0, 1);
      assert.deepEqual(await outcomeOf(thread), {
        lock: true,
        lockHeld: true,
        tryAcquire: false,
        sameLock: true,
        reply: true,
      });
      assert.deepEqual(reply.take(1_000), { seen: 42 });
      lock.release();
    });

    it('reach a thread started after they were put', async () => {
      const queue = new Queue({ capacity: 2 });
      const lock = new Lock();
      lock.acquire();
      queue.put({ lock });
      const sync = syncArray();
      Atomics.store(sync, 0, 1);
      assert.deepEqual(await outcomeOf(start('takesWhenTold', sync, queue)), { lock: true, locked: true });
      // It came with the queue: nobody was asked for it.
      assert.equal(needsOf(queue), 0);
      lock.release();
    });

    it('reach a thread that had the queue when they were put, though their putter has ended', async () => {
      const queue = new Queue({ capacity: 2 });
      const lock = new Lock();
      lock.acquire();
      const sync = syncArray();
      const taker = start('takesWhenTold', sync, queue);
      await waitFor(sync, 1, 1);
      assert.equal(await within(start('putsShared', queue, lock).join()), 'put');
      Atomics.store(sync, 0, 1);
      Atomics.notify(sync, 0);
      assert.deepEqual(await outcomeOf(taker), { lock: true, locked: true });
      assert.equal(needsOf(queue), 0);
      lock.release();
    });

    it('reach a thread that got the queue while they were put: it asks, an idle holder answers', async () => {
      const queue = new Queue({ capacity: 2 });
      const lock = new Lock();
      lock.acquire();
      const sync = syncArray();
      Atomics.store(sync, 0, 1);
      const taker = start('takesWhenTold', sync, queue);
      // Put before the thread has its copy of the queue (it is still starting): it has not
      // joined the channel, and its copy came without this item.
      queue.put({ lock });
      assert.deepEqual(await outcomeOf(taker), { lock: true, locked: true });
      assert.ok(needsOf(queue) >= 1, 'the taker never asked');
      lock.release();
    });

    it('reach a thread that got the queue while they were put, from a holder blocked in the same queue', async () => {
      const queue = new Queue<unknown>({ capacity: 1 });
      const lock = new Lock();
      lock.acquire();
      const sync = syncArray();
      const taker = start('takesWhenTold', sync, queue);
      queue.put({ lock });
      await waitFor(sync, 1, 1);
      Atomics.store(sync, 0, 1);
      Atomics.notify(sync, 0);
      // Blocks this thread (the queue is full): the taker's request must wake it, and it answers.
      assert.equal(queue.put('next', 20_000), true);
      assert.deepEqual(await outcomeOf(taker), { lock: true, locked: true });
      assert.ok(needsOf(queue) >= 1, 'the taker never asked');
      assert.equal(queue.take(), 'next');
      lock.release();
    });
  });

  it('4 producers and 4 consumers through a Queue of capacity 16 deliver 200,000 items exactly once while consumers are interrupted at random and replaced', async () => {
    const PRODUCERS = 4;
    const PER_PRODUCER = 50_000;
    const TOTAL = PRODUCERS * PER_PRODUCER;
    const queue = new Queue<number | { id: number }>({ capacity: 16, maxItemBytes: 32 });
    const counts = new Int32Array(new SharedArrayBuffer(4 * TOTAL));
    // [0] items taken, [1..4] interrupted puts by producer, [8..11] items taken by the consumer
    // in each of the 4 places since it started, [12] how many items each producer may put.
    const sync = syncArray(16);
    const GATE = 12;
    // The gate opens a step at a time, each once a consumer has been interrupted and replaced
    // since the last: the run interrupts as it claims to however fast the queue goes.
    const STEP = PER_PRODUCER / 20;
    Atomics.store(sync, GATE, STEP);
    let openedAt = 0;
    const producers = Array.from({ length: PRODUCERS }, (_, p) =>
      start(
        'producer',
        queue,
        p * PER_PRODUCER,
        PER_PRODUCER,
        p % 2 === 0 ? 'number' : 'object',
        p >= 2,
        sync,
        1 + p,
        GATE,
      ),
    );
    const producing = Promise.all(producers.map((t) => t.join()));
    let producersDone = false;
    void producing.then(() => {
      producersDone = true;
    });
    let replaced = 0;
    const consumers = new Set<Promise<unknown>>();
    const live: Thread[] = [];
    const startConsumer = (index: number): void => {
      Atomics.store(sync, 8 + index, 0);
      const thread = start('consumer', queue, counts, sync, 8 + index, index % 2 === 1);
      live[index] = thread;
      const ended = thread.join().then((how) => {
        consumers.delete(ended);
        if (how === 'interrupted') {
          replaced++;
          startConsumer(index);
        }
        return how;
      });
      consumers.add(ended);
    };
    for (let i = 0; i < 4; i++) startConsumer(i);
    const deadline = performance.now() + 90_000;
    let interrupts = 0;
    // Interrupt consumers (and now and then a producer) at random until everything is taken.
    while (Atomics.load(sync, 0) < TOTAL) {
      assert.ok(performance.now() < deadline, `stuck at ${Atomics.load(sync, 0)} of ${TOTAL} items`);
      await delay(5 + Math.random() * 15);
      // Only consumers that have taken something: one interrupted while it starts would take
      // nothing (and threads start slowly under tsx).
      const index = Math.floor(Math.random() * live.length);
      if (Atomics.load(sync, 8 + index) > 0) {
        live[index]!.interrupt();
        interrupts++;
      }
      if (!producersDone && Math.random() < 0.2) producers[Math.floor(Math.random() * PRODUCERS)]!.interrupt();
      if (replaced > openedAt && Atomics.load(sync, GATE) < PER_PRODUCER) {
        openedAt = replaced;
        Atomics.add(sync, GATE, STEP);
        Atomics.notify(sync, GATE);
      }
    }
    assert.deepEqual(await within(producing, 30_000), Array(PRODUCERS).fill('produced'));
    queue.close();
    while (consumers.size > 0) await within(Promise.all([...consumers]), 30_000);
    const wrong: string[] = [];
    for (let id = 0; id < TOTAL && wrong.length < 10; id++) {
      if (counts[id] !== 1) wrong.push(`item ${id} taken ${counts[id]} times`);
    }
    assert.deepEqual(wrong, []);
    assert.equal(Atomics.load(sync, 0), TOTAL);
    assert.equal(queue.size, 0);
    // The run exercised what it claims to.
    assert.ok(replaced >= 19, `only ${replaced} consumers replaced (${interrupts} interrupts)`);
    const interruptedPuts = [1, 2, 3, 4].reduce((sum, i) => sum + Atomics.load(sync, i), 0);
    assert.ok(interruptedPuts >= 1, 'no put was interrupted');
  });
});

describe('Queue: mixed streams between racing threads', () => {
  // Numbers live in the slots, four to a cache line, beside their sequence words; other items'
  // bytes in each slot's data cell, shared objects on the side path: a mixed stream through a
  // small ring makes every kind wrap and sit next to every other.
  const streams = async (
    producers: number,
    consumers: number,
    capacity: number,
    perProducer: number,
    side: boolean,
  ) => {
    const queue = new Queue({ capacity, maxItemBytes: 64 });
    const counts = new Int32Array(new SharedArrayBuffer(4 * producers * perProducer));
    const shared = side ? new SharedArrayBuffer(4) : undefined;
    if (shared !== undefined) Atomics.store(new Int32Array(shared), 0, 7);
    const takers = Array.from({ length: consumers }, () => start('takesStreams', queue, counts, perProducer));
    const putters = Array.from({ length: producers }, (_, p) => start('putsStream', queue, p, perProducer, shared));
    assert.deepEqual(await within(Promise.all(putters.map((t) => t.join())), 90_000), Array(producers).fill('put'));
    queue.close();
    const reports = (await within(Promise.all(takers.map((t) => t.join())), 90_000)) as {
      taken: number;
      wrong: string[];
      sharedSeen: number;
    }[];
    assert.deepEqual(
      reports.flatMap((r) => r.wrong),
      [],
    );
    assert.equal(
      reports.reduce((sum, r) => sum + r.taken, 0),
      producers * perProducer,
    );
    const wrong: string[] = [];
    for (let k = 0; k < counts.length && wrong.length < 10; k++) {
      if (counts[k] !== 1) {
        wrong.push(`item ${k % perProducer} of producer ${Math.floor(k / perProducer)} taken ${counts[k]} times`);
      }
    }
    assert.deepEqual(wrong, []);
    if (side)
      assert.ok(
        reports.some((r) => r.sharedSeen === 7),
        'no shared buffer arrived sharing its memory',
      );
    assert.equal(queue.size, 0);
  };

  it('1 -> 1 through a capacity of 64: 20000 numbers, plain data and V8 bytes, each once, in order', async () => {
    await streams(1, 1, 64, 20_000, false);
  });

  it("3 -> 3 through a capacity of 5: 18000 numbers, plain data and V8 bytes, each once, each producer's in order", async () => {
    await streams(3, 3, 5, 6_000, false);
  });

  it("2 -> 2 through a capacity of 8: 12000 items, a fifth holding a SharedArrayBuffer (the side path), each once, each producer's in order", async () => {
    await streams(2, 2, 8, 6_000, true);
  });

  it('takers and putters terminated while parked leave the queue waking the threads that come after them', async () => {
    // A terminated waiter never leaves the wait queue, nor the queue's count of waits: the
    // waits after it must still be woken at once. A lost wake-up shows as the 20 s timed wait
    // running out (the tests' park slice is 10 min), so 10 s tells it from a loaded machine.
    const promptly = async (thread: Thread, before: bigint, expected: unknown): Promise<void> => {
      const { at, ...outcome } = (await outcomeOf(thread)) as Outcome & { at: bigint };
      assert.deepEqual(outcome, { returned: expected });
      const ms = Number(at - before) / 1e6;
      assert.ok(ms < 10_000, `woken after ${ms.toFixed(0)} ms`);
    };
    const queue = new Queue<number>({ capacity: 1 });
    for (let round = 0; round < 3; round++) {
      const doomed = [await blockedIn(queue, 'take', 60_000), await blockedIn(queue, 'take', 60_000)];
      await Promise.all(doomed.map((t) => t.terminate()));
      const taker = await blockedInTimed(queue, 'take', 20_000);
      let before = process.hrtime.bigint();
      assert.ok(queue.put(round, 5_000));
      await promptly(taker, before, round);

      assert.ok(queue.put(100 + round, 5_000));
      const doomedPutter = await blockedIn(queue, 'put', 0, 60_000);
      await doomedPutter.terminate();
      const putter = await blockedInTimed(queue, 'put', 200 + round, 20_000);
      before = process.hrtime.bigint();
      assert.equal(queue.take(5_000), 100 + round);
      await promptly(putter, before, true);
      assert.equal(queue.take(5_000), 200 + round);
    }
    assert.equal(queue.size, 0);
  });
});

describe('Queue: a wait marks the cell it waits for, racing the put or take that changes it', () => {
  // A thread about to park marks the sequence word of the cell it waits for (compare-and-swap
  // against the word it read) and the put or take that changes the word exchanges it, reading
  // the mark: a mark that missed its change, or a change that missed its mark, parks a thread
  // that nobody wakes, which hangs here (the tests' park slice is 10 min). One side paces its
  // calls by up to 40 us, longer than the other side spins before it parks, so that side parks
  // at nearly every item, its mark racing the other side's next call.
  const race = async (capacity: number, pacedSide: 'putter' | 'taker') => {
    const COUNT = 8_000;
    const queue = new Queue<number>({ capacity });
    const counts = new Int32Array(new SharedArrayBuffer(8));
    const taker = start('takesPacedNumbers', queue, COUNT, pacedSide === 'taker', PUTTERS, counts);
    const putter = start('putsPacedNumbers', queue, COUNT, pacedSide === 'putter', TAKERS, counts);
    assert.equal(await within(putter.join(), 60_000, 'the putter'), 'put');
    assert.deepEqual(await within(taker.join(), 60_000, 'the taker'), []);
    assert.equal(queue.size, 0);
    // The run exercised what it claims to: calls that found the other side parked (or parking).
    const found = pacedSide === 'putter' ? counts[0]! : counts[1]!;
    assert.ok(found >= COUNT / 10, `only ${found} of ${COUNT} calls found the other side waiting`);
  };

  for (const capacity of [1, 2, 5]) {
    it(`capacity ${capacity}: takers parking on an empty queue are all woken by the put of their cell`, async () => {
      await race(capacity, 'putter');
    });
    it(`capacity ${capacity}: putters parking on a full queue are all woken by the take that frees their cell`, async () => {
      await race(capacity, 'taker');
    });
  }
});

describe('Queue: a side-path item reaches a thread that gets the queue later', () => {
  it('even when its putter has ended and the main thread blocks in joinSync()', () => {
    const fixture = new URL('./fixtures/queue.mjs', import.meta.url);
    const queue = new Queue({ capacity: 4 });
    const putter = new Thread(fixture, { export: 'putsShared', args: [queue, new Lock()] }).start();
    assert.equal(putter.joinSync(20_000), 'put');
    // The main thread never returns to its event loop from here until the taker has ended.
    const taker = new Thread(fixture, { export: 'takesOne', args: [queue] }).start();
    assert.deepEqual(taker.joinSync(30_000), { lock: true });
  });
});

describe('Queue: the cell a wait marks changes between its read and its mark', () => {
  // The windows the marks close are a few nanoseconds wide, which racing threads rarely hit (the
  // race tests above pass with a mark written by Atomics.or, not compared against the word read):
  // here the waiting thread pauses right after its read (its Atomics.load hooked), and this
  // thread makes the change in the pause. A mark not compared parks it with nobody to wake it.

  /** The word index of the first cell's sequence word (cell i holds i in a fresh queue). */
  function firstCell(queue: Queue): { cell: number } {
    const { buffer } = (queue as unknown as { [DESCRIBE](): { buffer: SharedArrayBuffer } })[DESCRIBE]();
    const words = new Int32Array(buffer);
    for (let k = 64; k + 12 < words.length; k += 16) {
      if (words[k] === 0 && words[k + 4] === 1 && words[k + 8] === 2 && words[k + 12] === 3) return { cell: k };
    }
    throw new Error('no cell found');
  }

  it('a taker moving on to a cell it reads empty, published before it marks, takes that item', async () => {
    // Its wait's first look marks the first cell (unread marks are safe there); the second cell
    // it reads only after another taker took the first item, which woke it.
    for (let round = 0; ; round++) {
      const queue = new Queue<number>({ capacity: 4 });
      const { cell } = firstCell(queue);
      try {
        const ctl = syncArray(2);
        const thread = start('callsPausedAfterRead', queue, 'take', [], ctl, cell + 4, TAKERS);
        await enlisted(queue, TAKERS);
        // Wakes it and takes the item first (it needs tens of microseconds to wake): it moves on.
        queue.put(1);
        if (queue.tryTake() === 1) {
          await waitFor(ctl, 0, 1);
          queue.put(2); // publishes the cell it read empty: no mark there yet, nobody woken
          Atomics.store(ctl, 1, 1);
          Atomics.notify(ctl, 1);
          assert.deepEqual(await within(thread.join(), 10_000, 'the taker'), { returned: 2, paused: true });
          return;
        }
        // It took the first item itself: again.
        assert.deepEqual(await within(thread.join()), { returned: 1, paused: false });
        assert.ok(round < 20, 'the taker always took the first item');
      } finally {
        queue.close(); // wakes a taker left parked by a failure
      }
    }
  });
});

describe('Queue: a taker waiting for a side-path value it lacks', () => {
  it('is woken when another thread takes that item, by the put after it', async () => {
    // The taker got the queue after the item was put, so it lacks the item's value: it asks for
    // it and parks. This thread holds the value and takes the item itself before reading the
    // request, then puts a number: the taker waits for that number's cell now, and only the take
    // of the item it parked on can tell it so (bug: it parked without marking that cell, so the
    // take woke nobody and the put of the next cell, unmarked, neither: it hangs).
    const queue = new Queue<unknown>({ capacity: 4 });
    const { buffer } = (queue as unknown as { [DESCRIBE](): { buffer: SharedArrayBuffer } })[DESCRIBE]();
    const words = new Int32Array(buffer);
    const pause = syncArray(1);
    try {
      for (let round = 0; round < 3; round++) {
        const needs = needsOf(queue);
        const taker = start('takesAny', queue);
        // Before the thread has its copy of the queue: it joins the channel after this post.
        queue.put({ shared: new SharedArrayBuffer(8), round });
        // Waits without an event-loop turn (that would answer the request) until the taker has
        // asked and is enlisted to park.
        const deadline = performance.now() + 20_000;
        while (Atomics.load(words, 32) === needs || Atomics.load(words, TAKERS) === 0) {
          assert.ok(performance.now() < deadline, 'the taker never asked and parked');
          Atomics.wait(pause, 0, 0, 1);
        }
        const mine = queue.tryTake() as { shared: unknown; round: number };
        assert.ok(mine.shared instanceof SharedArrayBuffer);
        assert.equal(mine.round, round);
        queue.put(round);
        assert.equal(await within(taker.join(), 10_000, 'the taker'), round);
      }
    } finally {
      // A taker left parked by a failure is woken by the close (and takes the number).
      queue.close();
    }
  });
});

describe('Queue: items arrive as structuredClone gives them', () => {
  it('a built-in object with a plain prototype, and an array whose getter deletes a later element', () => {
    const queue = new Queue({ capacity: 4 });
    const date = Object.setPrototypeOf(new Date(5), Object.prototype);
    const bytes = Object.setPrototypeOf(new Uint8Array([1, 2]), null);
    const holey: unknown[] = [1, 2, 3];
    Object.defineProperty(holey, 0, {
      get() {
        holey.length = 3;
        delete holey[2];
        return 1;
      },
      enumerable: true,
    });
    for (const item of [date, bytes]) {
      const expected = structuredClone(item);
      queue.put(item);
      const taken = queue.take(0);
      assert.equal(Object.prototype.toString.call(taken), Object.prototype.toString.call(expected));
    }
    const expected = structuredClone(holey) as unknown[];
    holey[2] = 3;
    queue.put(holey);
    const taken = queue.take(0) as unknown[];
    assert.deepEqual([taken.length, 2 in taken], [expected.length, 2 in expected]);
  });
});
