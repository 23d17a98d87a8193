// The browser suite: each case runs in the page and returns plain data that
// test/browser/browsers.test.ts asserts on. Real module workers, synchronised through shared
// memory, every wait bounded.
import {
  Event,
  interruptAllThreads,
  Lock,
  shutdown,
  sleep,
  sleepAsync,
  Thread,
  ThreadPool,
} from '/node_modules/graceful-threads/dist/browser/index.js';

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);

function syncArray(length = 8) {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** Resolves once sync[index] === value; rejects after timeoutMs. */
async function waitFor(sync, index, value, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const current = Atomics.load(sync, index);
    if (current === value) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for sync[${index}] === ${value} (is ${current})`);
    const wait = Atomics.waitAsync(sync, index, current, Math.min(left, 100));
    if (wait.async) await wait.value;
  }
}

/** Rejects if `promise` does not settle within timeoutMs. */
async function within(promise, timeoutMs = 20_000, what = 'the thread') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error) {
  return { name: error?.name, code: error?.code, message: String(error?.message) };
}

window.cases = {
  async isolation() {
    return { crossOriginIsolated: self.crossOriginIsolated };
  },

  async result() {
    const thread = new Thread(fixture('sleeper.js'), { export: 'add', args: [2, 3], name: 'adder' }).start();
    const value = await within(thread.join());
    return { value, state: thread.state, threadId: thread.threadId };
  },

  async joinSyncInWorker() {
    const thread = new Thread(fixture('joiner.js')).start();
    return { value: await within(thread.join()), state: thread.state };
  },

  async plainTarget() {
    const thread = new Thread(fixture('plain.js'), { args: [6, 7] }).start();
    return { value: await within(thread.join()), state: thread.state };
  },

  async failure() {
    const thread = new Thread(fixture('sleeper.js'), { export: 'fail', args: ['no luck'] }).start();
    try {
      await within(thread.join());
      return { rejected: false };
    } catch (error) {
      return { rejected: true, ...describe(error), isRangeError: error instanceof RangeError, state: thread.state };
    }
  },

  async missingModule() {
    const thread = new Thread(fixture('no-such-file.js')).start();
    try {
      await within(thread.join());
      return { rejected: false };
    } catch (error) {
      return { rejected: true, ...describe(error), state: thread.state };
    }
  },

  async spinLoop() {
    const sync = syncArray();
    const thread = new Thread(fixture('spin.js'), { args: [sync, 20_000_000] }).start();
    await waitFor(sync, 1, 1); // the loop runs on, with no call in it
    const interruptedAt = performance.now();
    thread.interrupt();
    const count = await within(thread.join());
    return { count, state: thread.state, stopMs: performance.now() - interruptedAt };
  },

  async checkedLoop() {
    const sync = syncArray();
    const thread = new Thread(fixture('spin.js'), { export: 'spinChecked', args: [sync, 20_000_000] }).start();
    await waitFor(sync, 1, 1);
    const interruptedAt = performance.now();
    thread.interrupt('enough');
    const value = await within(thread.join());
    return { value, state: thread.state, stopMs: performance.now() - interruptedAt };
  },

  async sleepWakes() {
    const sync = syncArray();
    const thread = new Thread(fixture('sleeper.js'), { args: [sync, 60_000] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt();
    const value = await within(thread.join());
    return { value, state: thread.state, sleptMs: Atomics.load(sync, 1) };
  },

  async sleepEnds() {
    const sync = syncArray();
    const thread = new Thread(fixture('sleeper.js'), { args: [sync, 30], name: 'short' }).start();
    const value = await within(thread.join());
    return { value, state: thread.state, sleptMs: Atomics.load(sync, 1) };
  },

  async fetchAborts() {
    const sync = syncArray();
    const thread = new Thread(fixture('fetcher.js'), { args: [sync, new URL('/hang', location.href).href] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt();
    const value = await within(thread.join());
    return { value, state: thread.state };
  },

  async criticalDefers() {
    const sync = syncArray();
    const thread = new Thread(fixture('critical.js'), { args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt();
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    const value = await within(thread.join());
    return { value, state: thread.state, inside: Atomics.load(sync, 2), after: Atomics.load(sync, 3) };
  },

  async interruptAll() {
    const sync = syncArray();
    const parent = new Thread(fixture('nested.js'), { args: [sync], name: 'parent' }).start();
    await waitFor(sync, 0, 1); // the parent started the child
    await waitFor(sync, 2, 1); // the child sleeps
    const count = interruptAllThreads('closing');
    const value = await within(parent.join());
    return { count, value, state: parent.state };
  },

  async childLeftRunning() {
    const sync = syncArray();
    const parent = new Thread(fixture('nested.js'), { export: 'leaveChild', args: [sync] }).start();
    const value = await within(parent.join());
    // Read as the parent's join() settles: the parent ended after its child, as in Node.
    return { value, childStarted: Atomics.load(sync, 2), childSleptMs: Atomics.load(sync, 3) };
  },

  async terminate() {
    const sync = syncArray();
    const thread = new Thread(fixture('sleeper.js'), { args: [sync, 60_000] }).start();
    await waitFor(sync, 0, 1);
    await within(thread.terminate());
    try {
      await thread.join();
      return { rejected: false, state: thread.state };
    } catch (error) {
      return { rejected: true, ...describe(error), state: thread.state };
    }
  },

  async mainThreadBlocking() {
    const errors = {};
    for (const [what, call] of [
      ['sleep', () => sleep(1)],
      ['joinSync', () => new Thread(fixture('sleeper.js'), { export: 'add', args: [1, 1] }).start().joinSync(1000)],
      ['event', () => new Event().wait(10)],
      // Uncontended: they would not have waited, and still refuse (not only under load).
      ['free lock', () => new Lock().acquire()],
      [
        'set event',
        () => {
          const event = new Event();
          event.set();
          return event.wait();
        },
      ],
    ]) {
      try {
        call();
        errors[what] = { threw: false };
      } catch (error) {
        errors[what] = { threw: true, ...describe(error) };
      }
    }
    // A wait that cannot block (timeout 0) is no blocking wait.
    const tryAcquired = new Lock().tryAcquire();
    const started = performance.now();
    await sleepAsync(20);
    return { errors, tryAcquired, sleepAsyncMs: performance.now() - started };
  },

  async eventWait() {
    const results = [];
    for (const how of ['set', 'interrupt']) {
      const sync = syncArray();
      const event = new Event();
      const thread = new Thread(fixture('waiter.js'), { args: [sync, event] }).start();
      await waitFor(sync, 0, 1);
      if (how === 'set') event.set();
      else thread.interrupt();
      results.push(await within(thread.join()));
    }
    return { results };
  },

  async uncaught() {
    const thread = new Thread(fixture('sleeper.js'), { export: 'throwLater' }).start();
    try {
      await within(thread.join());
      return { rejected: false, state: thread.state };
    } catch (error) {
      return { rejected: true, ...describe(error), state: thread.state };
    }
  },

  async shutdownAll() {
    const syncs = [syncArray(), syncArray()];
    const threads = syncs.map((sync) => new Thread(fixture('sleeper.js'), { args: [sync, 60_000] }).start());
    for (const sync of syncs) await waitFor(sync, 0, 1);
    const report = await within(shutdown({ graceMs: 10_000 }));
    const errors = await Promise.all(threads.map((thread) => thread.join().then(() => null, describe)));
    return {
      states: threads.map((thread) => thread.state),
      errors,
      ended: report.ended.length,
      terminated: report.terminated.length,
    };
  },

  async shutdownKeepsCrashes() {
    // shutdown() terminates each thread as soon as its slot says it has ended: the error it
    // died of, posted just before, may still be on its way then.
    const messages = [];
    for (let round = 0; round < 3; round++) {
      const sync = syncArray();
      const threads = Array.from({ length: 6 }, (_, i) =>
        new Thread(fixture('sleeper.js'), { export: 'throwOnInterrupt', args: [sync, i] }).start(),
      );
      await waitFor(sync, 0, threads.length);
      await within(shutdown({ graceMs: 10_000 }));
      for (const thread of threads) {
        messages.push(
          await within(
            thread.join().then(
              () => 'resolved',
              (error) => `${error.name}: ${error.message}`,
            ),
          ),
        );
      }
    }
    return { messages: [...new Set(messages.map((message) => message.replace(/\d+$/, 'N')))] };
  },

  async pool() {
    try {
      new ThreadPool(fixture('sleeper.js'));
      return { threw: false };
    } catch (error) {
      return { threw: true, ...describe(error) };
    }
  },

  async interruptReason() {
    const sync = syncArray();
    const thread = new Thread(fixture('sleeper.js'), { export: 'reasonOf', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    let refused;
    try {
      thread.interrupt({ run: () => 1 });
    } catch (error) {
      refused = error.code;
    }
    // Refused by structured clone, though it holds no function: the walk alone wrote it as {}.
    let weakMapRefused;
    try {
      thread.interrupt({ cache: new WeakMap() });
    } catch (error) {
      weakMapRefused = error.code;
    }
    thread.interrupt({
      why: 'deadline',
      at: new Date(0),
      cause: new RangeError('too late'),
      tags: new Set(['a']),
      big: 2n ** 70n,
      bytes: new Uint16Array([1, 65535]),
      flag: new Boolean(false),
    });
    return { refused, weakMapRefused, value: await within(thread.join()), interrupted: thread.interrupted };
  },
};

window.suiteReady = true;
