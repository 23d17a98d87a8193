import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { interruptAllThreads, ThreadPool, type WorkerReplacedEvent } from 'graceful-threads';
import { liveThreadCount, syncArray, waitFor, within } from './helpers.ts';

const tasks = new URL('./fixtures/pool-tasks.mjs', import.meta.url);
/** The type of the fixture's default export, as `typeof addOne` would give it. */
type AddOne = (x: number) => number;

/** How a promise settled, without letting a rejection go unhandled. */
function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** True once `promise` has settled, checked after the microtasks now queued have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** Runs a program of test/fixtures to its end (bounded); its stdout, trimmed. */
function runProgram(name: string): Promise<string> {
  const program = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  return new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [program], { timeout: 60_000 }, (error, out, err) =>
      error === null ? resolve(out.trim()) : reject(Object.assign(error, { stdout: out, stderr: err })),
    );
  });
}

describe('ThreadPool', () => {
  it('runs the export on tasks, names its workers after the pool, and types flow from the target', async () => {
    await using pool = new ThreadPool<AddOne>(tasks, { size: 2, name: 'adder' });
    const result: number = await within(pool.run(41));
    assert.equal(result, 42);
    assert.equal(await within(pool.run(3, { export: 'asyncDouble' })), 6);
    const seen = (await within(pool.run(0, { export: 'inspect' }))) as unknown as { name: string };
    assert.match(seen.name, /^adder-\d+$/);
    // @ts-expect-error: the task is a number
    void pool.run('text').catch(() => {});
  });

  it('rejects with what the task threw and keeps the worker', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const before = (await within(pool.run(0, { export: 'inspect' }))) as { threadId: number };
    const failed = await within(outcome(pool.run('bad input', { export: 'fail' })));
    assert.equal(failed.ok, false);
    assert.ok(!failed.ok && failed.error instanceof RangeError);
    assert.equal((failed as { error: Error }).error.message, 'bad input');
    const after = (await within(pool.run(0, { export: 'inspect' }))) as { threadId: number };
    assert.equal(after.threadId, before.threadId, 'the same worker ran the next task');
    assert.deepEqual(pool.stats, { size: 1, busy: 0, queued: 0, completed: 3, cancelled: 0, replaced: 0 });
  });

  it('cancels a running CPU-bound task through its flag and keeps the worker for the next task', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const first = (await within(pool.run(0, { export: 'inspect' }))) as { threadId: number };
    const sync = syncArray();
    const controller = new AbortController();
    const running = outcome(pool.run({ sync }, { export: 'spinUntilInterrupted', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    const reason = new Error('no longer needed');
    controller.abort(reason);
    const cancelled = await within(running);
    assert.deepEqual(cancelled, { ok: false, error: reason }, 'rejects with the signal reason itself');
    await waitFor(sync, 1, 1); // the task saw its flag
    const next = (await within(pool.run(0, { export: 'inspect' }))) as Record<string, unknown>;
    assert.equal(next.threadId, first.threadId, 'no new worker');
    assert.equal(next.interruptedAtStart, false, 'the flag is cleared');
    assert.equal(next.signalAbortedAtStart, false);
    assert.deepEqual(pool.stats, { size: 1, busy: 0, queued: 0, completed: 2, cancelled: 1, replaced: 0 });
  });

  it("a cancelled task's error or value goes nowhere: its worker neither describes nor clones it, and is kept", async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const first = (await within(pool.run(0, { export: 'inspect' }))) as { threadId: number };
    for (const returnValue of [false, true]) {
      const sync = syncArray();
      const controller = new AbortController();
      const running = outcome(
        pool.run({ sync, returnValue }, { export: 'endWatchedOnInterrupt', signal: controller.signal }),
      );
      await waitFor(sync, 0, 1);
      controller.abort();
      const cancelled = await within(running);
      assert.ok(!cancelled.ok && (cancelled.error as Error).name === 'AbortError', 'rejects with the reason');
      await waitFor(sync, 1, 1);
      // No task follows: the worker posts the cancelled task's end, which the pool takes.
      await within(
        (async () => {
          while (pool.stats.busy !== 0) await new Promise((resolve) => setTimeout(resolve, 1));
        })(),
      );
      assert.equal(Atomics.load(sync, 2), 0, 'nothing of what the task ended with was read');
    }
    const next = (await within(pool.run(0, { export: 'inspect' }))) as Record<string, unknown>;
    assert.equal(next.threadId, first.threadId, 'no new worker');
    assert.deepEqual(pool.stats, { size: 1, busy: 0, queued: 0, completed: 2, cancelled: 2, replaced: 0 });
  });

  it('cancels with a reason too large to reach the task: a stand-in does, and the promise rejects with the reason', async () => {
    // An error named with 5,000 characters: neither it nor (before the fix) its stand-in, which
    // carried the name, fits the reason area. abort() then threw in the pool's listener after
    // marking the task cancelled, and the task, never interrupted, resolved with undefined.
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const controller = new AbortController();
    const running = outcome(
      pool.run({ sync, returnValue: true }, { export: 'endWatchedOnInterrupt', signal: controller.signal }),
    );
    await waitFor(sync, 0, 1);
    const reason = new Error('cancelled');
    reason.name = 'X'.repeat(5000);
    controller.abort(reason);
    const cancelled = await within(running);
    assert.ok(!cancelled.ok && cancelled.error === reason, 'rejects with the reason itself');
    await waitFor(sync, 1, 1); // the task saw its interrupt
    assert.equal(await within(pool.run(1)), 2);
  });

  it('wakes a cancelled task blocked in sleep(), as any thread is woken', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const controller = new AbortController();
    const sleeping = outcome(pool.run({ sync }, { export: 'sleepUntilInterrupted', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    controller.abort('wake up');
    assert.deepEqual(await within(sleeping), { ok: false, error: 'wake up' });
    await waitFor(sync, 1, 1);
    assert.equal(await within(pool.run(1)), 2);
  });

  it('a task sent ahead behind another starts with its flag cleared, whatever the one before left', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    // Both exports known to be short: the pool sends them several at once.
    await within(pool.run(undefined, { export: 'selfInterrupt' }));
    await within(pool.run(undefined, { export: 'inspect' }));
    const runs = Array.from({ length: 100 }, (_, n) =>
      pool.run(undefined, { export: n % 2 === 0 ? 'selfInterrupt' : 'inspect' }),
    );
    const results = (await within(Promise.all(runs))) as Array<string | Record<string, unknown>>;
    results.forEach((result, n) => {
      if (n % 2 === 1) assert.equal((result as Record<string, unknown>).interruptedAtStart, false, `task ${n}`);
    });
  });

  it('a task starts with no critical section that code its last task left behind opened after it ended', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    assert.equal(await within(pool.run({ sync }, { export: 'criticalSectionLater' })), 'returned');
    await waitFor(sync, 0, 1); // the timer the task left has entered a critical section
    const state = (await within(pool.run(0, { export: 'inspect' }))) as Record<string, unknown>;
    assert.equal(state.deferred, false, 'a critical section left open: checkInterrupt() did not throw');
  });

  it('rejects a cancelled task at once, and runs the next task only after its async finally, with no state left from it', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const controller = new AbortController();
    const cancelled = outcome(pool.run({ sync }, { export: 'cancelledWithSlowFinally', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    const next = pool.run({ sync }, { export: 'afterSlowFinally' });
    controller.abort('stop');
    assert.deepEqual(await within(cancelled), { ok: false, error: 'stop' });
    assert.equal(await hasSettled(next), false, 'the next task waits for the cancelled one to end');
    assert.equal(pool.stats.busy, 1);
    Atomics.store(sync, 3, 1); // lets the finally end
    const state = (await within(next)) as Record<string, unknown>;
    assert.equal(state.finallyDone, true, 'the cancelled task had fully ended');
    assert.equal(state.interruptedAtStart, false, 'flag cleared');
    assert.equal(state.signalAbortedAtStart, false, 'a fresh interruption signal');
    assert.equal(state.deferred, false, 'no critical section left open');
    assert.equal(state.signalAbortedByProbe, true);
    assert.equal(Atomics.load(sync, 4), 1, "the old signal's listener ran once, for its own task only");
  });

  it('replaces a worker whose task ignores the interrupt for cancelGraceMs, and runs the next task', async () => {
    await using pool = new ThreadPool(tasks, { size: 1, cancelGraceMs: 200 });
    // Known to be short, the next task is sent behind the cancelled one, and must be taken back.
    assert.equal(await within(pool.run(0)), 1);
    const sync = syncArray();
    const controller = new AbortController();
    const task = { sync };
    const ignored = outcome(pool.run(task, { export: 'ignoreInterrupt', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    const replaced = once(pool, 'workerReplaced') as Promise<[WorkerReplacedEvent]>;
    const next = pool.run(1);
    controller.abort('stop');
    assert.deepEqual(await within(ignored), { ok: false, error: 'stop' });
    const [event] = await within(replaced);
    assert.equal(event.export, 'ignoreInterrupt');
    assert.equal(event.task, task);
    assert.ok(event.ignoredMs >= 200, `ignored for ${event.ignoredMs} ms`);
    assert.ok(event.threadId > 0);
    assert.equal(await within(next), 2);
    assert.deepEqual(pool.stats, { size: 1, busy: 0, queued: 0, completed: 2, cancelled: 1, replaced: 1 });
  });

  it('replaces each worker whose task ignores its interrupt once its own grace period is over, cancelled at different times', async () => {
    const graceMs = 300;
    await using pool = new ThreadPool(tasks, { size: 2, cancelGraceMs: graceMs });
    const events: WorkerReplacedEvent[] = [];
    pool.on('workerReplaced', (event: WorkerReplacedEvent) => events.push(event));
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // A ends on its interrupt: its cancel arms the pool's grace timer, which then finds A ended.
    const a = { sync: syncArray() };
    const aborts = [new AbortController(), new AbortController(), new AbortController()];
    const aRun = outcome(pool.run(a, { export: 'spinUntilInterrupted', signal: aborts[0]!.signal }));
    const b = { sync: syncArray() };
    const bRun = outcome(pool.run(b, { export: 'ignoreInterrupt', signal: aborts[1]!.signal }));
    await waitFor(a.sync, 0, 1);
    await waitFor(b.sync, 0, 1);
    aborts[0]!.abort('a');
    await waitFor(a.sync, 1, 1);
    // C takes A's worker; B and C ignore their interrupts, cancelled 100 ms and 200 ms after A.
    const c = { sync: syncArray() };
    const cRun = outcome(pool.run(c, { export: 'ignoreInterrupt', signal: aborts[2]!.signal }));
    await waitFor(c.sync, 0, 1);
    await pause(100);
    aborts[1]!.abort('b');
    await pause(100);
    aborts[2]!.abort('c');
    const rejected = await within(Promise.all([aRun, bRun, cRun]));
    assert.deepEqual(
      rejected.map((settled) => settled.ok),
      [false, false, false],
    );
    await within(
      (async () => {
        while (events.length < 2) await once(pool, 'workerReplaced');
      })(),
    );
    // Fired for A's cancel, the timer would have replaced B 100 ms early; not armed again after
    // replacing B, it would never have replaced C.
    assert.deepEqual(
      events.map((event) => event.task),
      [b, c],
    );
    for (const event of events) assert.ok(event.ignoredMs >= graceMs, `ignored for ${event.ignoredMs} ms`);
    for (const task of [b, c]) Atomics.store(task.sync, 1, 1); // the terminated tasks' spin ends anyway
    assert.equal(await within(pool.run(1)), 2);
    assert.equal(pool.stats.replaced, 2);
  });

  it('a grace period that ended keeps no timer holding the process', async () => {
    // A program that cancels a task (which ends at once), runs the next and never closes its pool:
    // with cancelGraceMs 600 s, a grace timer still referenced would keep it running 10 minutes.
    const program = new URL('./fixtures/pool-cancel-main.mjs', import.meta.url);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [fileURLToPath(program)], { timeout: 60_000 }, (error, out, err) =>
        error === null ? resolve(out) : reject(Object.assign(error, { stderr: err })),
      );
    });
    assert.equal(stdout.trim(), 'cancelled: stop; next: 2');
  });

  it('a task sent behind another starts with none of the state that one left: flag, signal, critical section', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    // Both exports known to be short: the pool sends them several at once, and the worker starts
    // each right after the last one's end, without a turn of its event loop.
    await within(pool.run(undefined, { export: 'leaveState' }));
    await within(pool.run(undefined, { export: 'inspect' }));
    const runs = Array.from({ length: 100 }, (_, n) =>
      pool.run(undefined, { export: n % 2 === 0 ? 'leaveState' : 'inspect' }),
    );
    const results = (await within(Promise.all(runs))) as Array<string | Record<string, unknown>>;
    results.forEach((result, n) => {
      if (n % 2 === 0) return;
      const state = result as Record<string, unknown>;
      assert.equal(state.interruptedAtStart, false, `task ${n}: flag left set`);
      assert.equal(state.signalAbortedAtStart, false, `task ${n}: the last task's aborted signal`);
      assert.equal(state.deferred, false, `task ${n}: a critical section left open`);
    });
  });

  it('a program that closes its pool as soon as a result arrives runs on until close() resolves', async () => {
    // The freed worker is unreferenced a microtask after the result: close() in the caller's
    // continuation comes first, and must keep it referenced until it has exited.
    assert.equal(await runProgram('pool-close-after-run-main.mjs'), 'closed 20');
  });

  it('a program that cancels a task ignoring its interrupt stays alive until its worker is replaced', async () => {
    // The grace timer is unreferenced: the worker of the cancelled task must hold the program.
    assert.equal(await runProgram('pool-ignored-main.mjs'), 'cancelled: stop\nreplaced after grace');
  });

  it('a workerReplaced listener that throws does not keep the other replacements of the same moment unannounced', async () => {
    assert.equal(await runProgram('pool-listener-throws-main.mjs'), 'replaced 2; events a,b; errors 1');
  });

  it("cancelGraceMs: Infinity (or past a timer's range) never replaces, and arms no timer that fires every millisecond", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (const cancelGraceMs of [Number.POSITIVE_INFINITY, 2 ** 31]) {
        await using pool = new ThreadPool(tasks, { size: 1, cancelGraceMs });
        const sync = syncArray();
        const controller = new AbortController();
        const ignored = outcome(pool.run({ sync }, { export: 'ignoreUntilTold', signal: controller.signal }));
        await waitFor(sync, 0, 1);
        controller.abort('stop');
        await new Promise((resolve) => setTimeout(resolve, 200));
        Atomics.store(sync, 1, 1);
        assert.deepEqual(await within(ignored), { ok: false, error: 'stop' });
        assert.equal(await within(pool.run(1)), 2);
        assert.equal(pool.stats.replaced, 0);
      }
      // A timer past 2^31 - 1 ms is set to 1 ms (TimeoutOverflowWarning): armed again and again.
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close() and close({ cancel: true }) while a grace period runs: the worker is replaced, the queued task runs, close() resolves', async () => {
    for (const cancel of [false, true]) {
      const pool = new ThreadPool(tasks, { size: 1, cancelGraceMs: 200 });
      const events: WorkerReplacedEvent[] = [];
      pool.on('workerReplaced', (event: WorkerReplacedEvent) => events.push(event));
      const sync = syncArray();
      const controller = new AbortController();
      const ignored = outcome(pool.run({ sync }, { export: 'ignoreInterrupt', signal: controller.signal }));
      await waitFor(sync, 0, 1);
      controller.abort('stop');
      const queued = outcome(pool.run(41));
      await within(pool.close({ cancel }));
      assert.deepEqual(await ignored, { ok: false, error: 'stop' });
      const next = await queued;
      if (cancel) assert.equal((next as { error: { code: string } }).error.code, 'ERR_POOL_CLOSED');
      else assert.deepEqual(next, { ok: true, value: 42 });
      assert.equal(events.length, 1, `cancel: ${cancel}`);
      assert.ok(events[0]!.ignoredMs >= 200);
      assert.equal(pool.stats.size, 0);
      Atomics.store(sync, 1, 1);
    }
  });

  it('a cancelled task that ends after the next task was sent: the next starts at once and is not taken for it by the grace timer', async () => {
    await using pool = new ThreadPool(tasks, { size: 1, cancelGraceMs: 100 });
    const sync = syncArray();
    // Known to be short: the next task is sent behind the cancelled one, into its worker's port.
    for (let n = 0; n < 20; n++) await within(pool.run({ sync, index: 7, ms: 0 }, { export: 'countThenBusy' }));
    let replaced = 0;
    pool.on('workerReplaced', () => replaced++);
    const controller = new AbortController();
    const cancelled = outcome(pool.run({ sync }, { export: 'endWhenTold', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    controller.abort('stop');
    // Runs 400 ms, past the grace period: the worker reports no outcome for the cancelled task
    // (the next one's tells the pool it ended), so only the worker's word says it went on.
    const next = pool.run({ sync, index: 5, ms: 400 }, { export: 'countThenBusy' });
    assert.equal(pool.stats.queued, 0, 'sent behind the cancelled task');
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    assert.deepEqual(await within(cancelled), { ok: false, error: 'stop' });
    assert.equal(await within(next), 1);
    assert.equal(Atomics.load(sync, 5), 1, 'the next task ran once');
    assert.equal(replaced, 0, 'a worker running the next task was replaced for the cancelled one');
    assert.deepEqual(pool.stats, { size: 1, busy: 0, queued: 0, completed: 21, cancelled: 1, replaced: 0 });
    assert.equal(await within(pool.run(1)), 2);
  });

  it('a worker that exits in the task after a cancelled one fails that task only, which runs once', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    for (let n = 0; n < 20; n++) await within(pool.run({ sync, index: 7, exit: false }, { export: 'countThenExit' }));
    const controller = new AbortController();
    const cancelled = outcome(pool.run({ sync }, { export: 'endWhenTold', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    controller.abort('stop');
    const next = outcome(pool.run({ sync, index: 5, exit: true }, { export: 'countThenExit' }));
    assert.equal(pool.stats.queued, 0, 'sent behind the cancelled task');
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    assert.deepEqual(await within(cancelled), { ok: false, error: 'stop' });
    const failed = await within(next);
    assert.equal((failed as { error: { code: string } }).error.code, 'ERR_THREAD_EXITED');
    // Taken for the cancelled task's, its exit would send it back to the queue to run again.
    assert.equal(Atomics.load(sync, 5), 1, 'the task that exited ran once');
    assert.equal(pool.stats.replaced, 1);
    assert.equal(await within(pool.run(1)), 2);
  });

  it('a replacement racing the end of a task that ignored its interrupt never runs the task behind it twice', async () => {
    const graceMs = 5;
    const pool = new ThreadPool(tasks, { size: 1, cancelGraceMs: graceMs });
    const rounds = 40;
    const sync = syncArray();
    const runs = new Int32Array(new SharedArrayBuffer(4 * rounds));
    for (let n = 0; n < 20; n++)
      await within(pool.run({ sync: runs, index: 0, exit: false }, { export: 'countThenExit' }));
    Atomics.store(runs, 0, 0);
    const spin = (us: number): void => {
      const until = performance.now() + us / 1000;
      while (performance.now() < until) {}
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < rounds; round++) {
      Atomics.store(sync, 0, 0);
      Atomics.store(sync, 1, 0);
      const controller = new AbortController();
      const ignoring = outcome(pool.run({ sync }, { export: 'ignoreUntilTold', signal: controller.signal }));
      await waitFor(sync, 0, 1);
      controller.abort('stop');
      const abortedAt = performance.now();
      // Sent behind the cancelled task (short, no signal).
      const next = pool.run({ sync: runs, index: round, exit: false }, { export: 'countThenExit' });
      // Armed before the pool's grace timer, for as long: it runs just before it, in the same turn,
      // and lets the task end a few us before or after the pool decides to replace its worker.
      setTimeout(() => {
        while (performance.now() - abortedAt < graceMs) {}
        spin(random(50));
        Atomics.store(sync, 1, 1);
        spin(random(300));
      }, graceMs);
      assert.deepEqual(await within(ignoring), { ok: false, error: 'stop' });
      assert.equal(await within(next), 'stayed');
    }
    await within(pool.close());
    // Without the claim on the worker's word, a worker replaced just as it started the task
    // behind ran it, and the pool sent it to the replacement too.
    for (let round = 0; round < rounds; round++) assert.equal(Atomics.load(runs, round), 1, `round ${round}`);
    const { completed, cancelled } = pool.stats;
    assert.deepEqual([completed, cancelled], [20 + rounds, rounds]);
    assert.equal(liveThreadCount(), 0, 'no worker or registry slot left');
  });

  it('a worker looking for the next task after a cancel closes at once when the pool closes', async () => {
    const pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const controller = new AbortController();
    const cancelled = outcome(pool.run({ sync }, { export: 'spinUntilInterrupted', signal: controller.signal }));
    await waitFor(sync, 0, 1);
    controller.abort('stop');
    const closed = pool.close();
    assert.deepEqual(await within(cancelled), { ok: false, error: 'stop' });
    await within(closed);
    assert.equal(liveThreadCount(), 0);
  });

  it('drops an aborted queued task without running it; rejects an aborted signal at once; honours maxQueue', async () => {
    await using pool = new ThreadPool(tasks, { size: 1, maxQueue: 1 });
    const sync = syncArray();
    const holding = pool.run({ sync, index: 1 }, { export: 'hold' });
    await waitFor(sync, 0, 1);
    const controller = new AbortController();
    const queued = outcome(pool.run({ sync, index: 2 }, { export: 'count', signal: controller.signal }));
    const full = await outcome(pool.run(1));
    assert.equal(full.ok, false);
    assert.equal((full as { error: { code: string } }).error.code, 'ERR_POOL_QUEUE_FULL');
    controller.abort('never mind');
    assert.deepEqual(await within(queued), { ok: false, error: 'never mind' });
    assert.equal(pool.stats.queued, 0);
    const already = await outcome(pool.run({ sync, index: 2 }, { export: 'count', signal: AbortSignal.abort('x') }));
    assert.deepEqual(already, { ok: false, error: 'x' });
    const after = pool.run({ sync, index: 5 }, { export: 'count' }); // the queue has room again
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    assert.equal(await within(holding), 'released');
    assert.equal(await within(after), 1);
    assert.equal(Atomics.load(sync, 2), 0, 'the aborted tasks never ran');
    assert.equal(pool.stats.cancelled, 1, 'the queued task; the one aborted before run() never counted');
  });

  it('replaces a worker that crashes or exits, failing only its own task', async () => {
    await using pool = new ThreadPool(tasks, { size: 2 });
    const sync = syncArray();
    const other = pool.run({ sync, index: 1 }, { export: 'hold' });
    await waitFor(sync, 0, 1);
    const crashed = await within(outcome(pool.run(0, { export: 'crashLater' })));
    assert.equal(crashed.ok, false);
    assert.equal((crashed as { error: Error }).error.message, 'crashed in a timer');
    const exited = await within(outcome(pool.run(7, { export: 'exitWorker' })));
    assert.equal((exited as { error: { code: string; exitCode: number } }).error.code, 'ERR_THREAD_EXITED');
    assert.equal((exited as { error: { exitCode: number } }).error.exitCode, 7);
    assert.equal(await hasSettled(other), false, 'the task on the other worker was not touched');
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    assert.equal(await within(other), 'released');
    assert.equal(await within(pool.run(1)), 2);
    assert.equal(pool.stats.replaced, 2);
  });

  it('sends short tasks without a signal several at once; a crash fails only its own task, those behind it run elsewhere', async () => {
    await using pool = new ThreadPool(tasks, { size: 1, export: 'maybeExit' });
    // The pool learns how long these take.
    for (let n = 0; n < 20; n++) assert.equal(await within(pool.run({ exit: false, n })), n);
    const results = Array.from({ length: 200 }, (_, n) => outcome(pool.run({ exit: n === 50, n })));
    const settled = await within(Promise.all(results));
    settled.forEach((result, n) => {
      if (n === 50) {
        assert.equal((result as { error: { code: string } }).error.code, 'ERR_THREAD_EXITED');
      } else {
        assert.deepEqual(result, { ok: true, value: n }, `task ${n}`);
      }
    });
    assert.equal(pool.stats.replaced, 1);
    assert.equal(pool.stats.completed, 220);
  });

  it('close({ cancel: true }) rejects the short tasks sent several at once too', async () => {
    const pool = new ThreadPool(tasks, { size: 2 });
    for (let n = 0; n < 20; n++) await within(pool.run(n));
    const results = Array.from({ length: 2000 }, (_, n) => outcome(pool.run(n)));
    await new Promise((resolve) => setImmediate(resolve));
    await within(pool.close({ cancel: true }));
    const settled = await within(Promise.all(results));
    let cancelled = 0;
    settled.forEach((result, n) => {
      if (result.ok) assert.equal(result.value, n + 1);
      else {
        assert.equal((result.error as { code: string }).code, 'ERR_POOL_CLOSED');
        cancelled++;
      }
    });
    assert.ok(cancelled > 0, 'close() came after every task had run');
    assert.equal(pool.stats.cancelled, cancelled);
    assert.equal(pool.stats.completed + cancelled, 2020);
    assert.equal(liveThreadCount(), 0);
  });

  it('close({ cancel: true }) starts none of the tasks sent behind the running one', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray(2);
    // Known to be short (enough runs that the first, which loaded the module, weighs nothing in
    // the estimate): the next ones go to the worker behind the first, which then blocks.
    for (let n = 0; n < 60; n++) await within(pool.run({ sync, block: false }, { export: 'countStart' }));
    Atomics.store(sync, 0, 0);
    const blocking = outcome(pool.run({ sync, block: true }, { export: 'countStart' }));
    const behind = Array.from({ length: 20 }, () =>
      outcome(pool.run({ sync, block: false }, { export: 'countStart' })),
    );
    await waitFor(sync, 1, 1);
    // All sent to the worker, behind the blocked task: none waits in the pool's own queue.
    assert.equal(pool.stats.queued, 0);
    await within(pool.close({ cancel: true }));
    for (const result of await within(Promise.all([blocking, ...behind]))) {
      assert.equal(result.ok, false);
      assert.equal((result as { error: { code: string } }).error.code, 'ERR_POOL_CLOSED');
    }
    // Without the pool's cancel word, each task behind would clear the flag as it starts and run.
    assert.equal(Atomics.load(sync, 0), 1, 'tasks behind the cancelled one ran');
    assert.equal(pool.stats.cancelled, 21);
  });

  it('close() lets queued and running tasks finish, then every worker exits; run() after it rejects', async () => {
    const pool = new ThreadPool(tasks, { size: 2 });
    const results = Array.from({ length: 20 }, (_, i) => pool.run(i, { export: 'asyncDouble' }));
    const closed = pool.close();
    const late = await outcome(pool.run(1));
    assert.equal((late as { error: { code: string } }).error.code, 'ERR_POOL_CLOSED');
    assert.deepEqual(
      await within(Promise.all(results)),
      results.map((_, i) => i * 2),
    );
    await within(closed);
    assert.equal(pool.stats.size, 0);
    assert.equal(liveThreadCount(), 0, 'no registry slot left');
  });

  it('close({ cancel: true }) drops the queue and interrupts running tasks', async () => {
    const pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const running = outcome(pool.run({ sync }, { export: 'spinUntilInterrupted' }));
    await waitFor(sync, 0, 1);
    const queued = outcome(pool.run(1));
    await within(pool.close({ cancel: true }));
    assert.equal(Atomics.load(sync, 1), 1, 'the running task saw its interrupt');
    for (const settled of [await running, await queued]) {
      assert.equal((settled as { error: { code: string } }).error.code, 'ERR_POOL_CLOSED');
    }
    assert.equal(liveThreadCount(), 0);
  });

  it('await using closes the pool on leaving the scope', async () => {
    let pool: ThreadPool | undefined;
    {
      await using scoped = new ThreadPool(tasks, { size: 1 });
      pool = scoped;
      assert.equal(await within(scoped.run(1)), 2);
      assert.equal(pool.stats.size, 1);
    }
    assert.equal(pool.stats.size, 0);
    assert.equal(liveThreadCount(), 0);
  });

  it('retires idle workers after idleTimeoutMs, and starts one again for the next task', async () => {
    await using pool = new ThreadPool(tasks, { size: 1, idleTimeoutMs: 50 });
    assert.equal(await within(pool.run(1)), 2);
    const deadline = performance.now() + 20_000;
    while (pool.stats.size !== 0 || liveThreadCount() !== 0) {
      assert.ok(performance.now() < deadline, 'the idle worker never exited');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await within(pool.run(2)), 3);
  });

  it('is reached by interruptAllThreads(); an interrupt of an idle worker does not reach the next task', async () => {
    await using pool = new ThreadPool(tasks, { size: 1 });
    const sync = syncArray();
    const running = outcome(pool.run({ sync }, { export: 'spinUntilInterrupted' }));
    await waitFor(sync, 0, 1);
    assert.equal(interruptAllThreads('everyone'), 1);
    assert.deepEqual(await within(running), { ok: true, value: 'saw the interrupt' });
    assert.equal(await within(pool.run(1)), 2, 'the next task ran, its flag cleared at dispatch');
    assert.equal(interruptAllThreads('while idle'), 1, 'the idle worker is a live thread');
    const next = (await within(pool.run(0, { export: 'inspect' }))) as Record<string, unknown>;
    assert.equal(next.interruptedAtStart, false, 'cleared at dispatch');
  });

  it('closeAllPools() (for a whole-program shutdown) closes every pool with workers, idle or busy', async () => {
    // The package's lazy half, as the package itself loaded it: the same pools.
    const { closeAllPools } = createRequire(import.meta.url)('../dist/heavy.js') as {
      closeAllPools(options?: { cancel?: boolean }): Promise<void>;
    };
    const idle = new ThreadPool(tasks, { size: 1 });
    const busy = new ThreadPool(tasks, { size: 1 });
    const unused = new ThreadPool(tasks, { size: 1 });
    assert.equal(await within(idle.run(1)), 2);
    const sync = syncArray();
    const running = outcome(busy.run({ sync }, { export: 'spinUntilInterrupted' }));
    await waitFor(sync, 0, 1);
    await within(closeAllPools({ cancel: true }));
    assert.equal(((await running) as { error: { code: string } }).error.code, 'ERR_POOL_CLOSED');
    assert.equal(Atomics.load(sync, 1), 1, 'the running task was interrupted');
    assert.equal(liveThreadCount(), 0);
    await assert.rejects(idle.run(1), { code: 'ERR_POOL_CLOSED' });
    assert.equal(await within(unused.run(1)), 2, 'a pool without workers was left alone');
    await within(unused.close());
  });

  it('rejects bad options with coded errors', async () => {
    assert.throws(() => new ThreadPool('worker.js'), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new ThreadPool(tasks, { size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new ThreadPool(tasks, { cancelGraceMs: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new ThreadPool(tasks, { maxQueue: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error: a bad type
    assert.throws(() => new ThreadPool(tasks, { name: 3 }), { code: 'ERR_INVALID_ARG_TYPE' });
    await using pool = new ThreadPool(tasks, { size: 1 });
    // @ts-expect-error: a bad type
    await assert.rejects(pool.run(1, { signal: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(
      pool.run(() => {}),
      { code: 'ERR_THREAD_ARGS_NOT_CLONEABLE' },
    );
    assert.equal(await within(pool.run(1)), 2, 'the worker is still usable');
  });

  it('1,000 random cancel/complete/throw races on a pool of 2: each settles once, the right way, nothing leaks', async () => {
    const pool = new ThreadPool(tasks, { size: 2, export: 'race', cancelGraceMs: 30_000 });
    const kinds = ['complete', 'throw', 'cancel', 'cancel'] as const;
    const runs: Promise<void>[] = [];
    const seen = new Int32Array(new SharedArrayBuffer(4 * 1000));
    let seed = 13;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const abortIn = [
      (abort: () => void) => abort(),
      (abort: () => void) => queueMicrotask(abort),
      (abort: () => void) => setImmediate(abort),
      (abort: () => void) => setTimeout(abort, 0),
      (abort: () => void) => setTimeout(abort, 1),
    ];
    for (let id = 0; id < 1000; id++) {
      const kind = kinds[random(kinds.length)]!;
      const controller = new AbortController();
      const reason = new Error(`cancel ${id}`);
      // Half the tasks that are not cancelled have no signal: short, the pool sends those several
      // at once to a worker, between the others.
      const signal = kind === 'cancel' || random(2) === 0 ? controller.signal : undefined;
      const promise = pool.run({ id, kind, spin: random(20_000), seen }, signal === undefined ? {} : { signal });
      // A cancel of a quick task too: it lands before, during or after the task's end.
      if (kind === 'cancel' || (signal !== undefined && random(2) === 0)) {
        abortIn[random(abortIn.length)]!(() => controller.abort(reason));
      }
      runs.push(
        promise.then(
          (value) => {
            const { id: echoed, saw } = value as { id: number; saw: string };
            assert.equal(echoed, id);
            assert.notEqual(kind, 'throw', `task ${id} threw but resolved`);
            assert.notEqual(saw, 'poison', `task ${id} (${kind}) saw an interrupt meant for another task`);
          },
          (error: unknown) => {
            if (error === reason) return;
            assert.equal(kind, 'throw', `task ${id} (${kind}) rejected with ${String(error)}`);
            assert.equal((error as Error).message, `task ${id} throws`);
          },
        ),
      );
      if (random(8) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await within(Promise.all(runs), 60_000, 'the 1,000 tasks');
    const { completed, cancelled } = pool.stats;
    // A promise settles once whatever the pool does; its counters show a task settled twice.
    assert.equal(completed + cancelled, 1000, 'each task counted once');
    assert.ok(cancelled > 100, `only ${cancelled} cancelled: the races did not happen`);
    await within(pool.close());
    assert.equal(seen.indexOf(2), -1, 'a cancel was lost: its task never saw its interrupt');
    assert.ok(seen.includes(1), 'no task was cancelled while running');
    assert.deepEqual(pool.stats, { size: 0, busy: 0, queued: 0, completed, cancelled, replaced: 0 });
    assert.equal(liveThreadCount(), 0, 'no worker or registry slot left');
  });
});
