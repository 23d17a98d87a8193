// The package's lazily loaded half (src/lazy.ts): what loads it, and the stand-ins the package
// exports in place of its classes (src/lazy-class.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  allowInterruption,
  Barrier,
  Condition,
  clearInterrupt,
  configureShutdown,
  criticalSection,
  currentThread,
  Event,
  enterAllowInterruption,
  enterCriticalSection,
  interruptAllThreads,
  interruptible,
  interruptionSignal,
  Lock,
  Semaphore,
  setThreadErrorHandler,
  shutdown,
  sleepAsync,
  Thread,
  ThreadInterruptedError,
} from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/lazy.mjs', import.meta.url);

describe('the lazily loaded half of the package', () => {
  it('is not bundled into the file every thread loads', () => {
    // esbuild marks where each source module starts; each of these costs every thread memory.
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    const bundled = [...entry.matchAll(/^\/\/ (src\/\S+\.ts)$/gm)].map((match) => match[1]);
    assert.ok(bundled.includes('src/current.ts'), 'the markers are still where this test looks');
    const heavy = bundled.filter((module) =>
      /^src\/(thread|pool|pool-worker|pool-options|pool-reason|error-transfer|reason|runtime\/node-codec|runtime\/node-pool|waits\/.*)\.ts$/.test(
        module!,
      ),
    );
    assert.deepEqual(heavy, []);
    // And heavy.js takes what they share from index.js instead of holding a second copy, except
    // the control block's functions (scripts/build.mjs, COPIED): it holds their own copy, so that
    // index.js holds none of what only a thread starting threads runs.
    const lazy = readFileSync(new URL('../dist/heavy.js', import.meta.url), 'utf8');
    assert.ok(!/^\/\/ src\/(current|errors|thread-state)\.ts$/m.test(lazy), 'heavy.js copies a module');
    assert.ok(!/^function (releaseSlot|freeSlot|nextThreadNumber)\(/m.test(entry), 'index.js holds slot management');
    // Nor the no-op renames esbuild's keepNames writes after function declarations (the build
    // blanks them; a thread would run each as it loads).
    assert.ok(!/^\s*__name\((\w+), "\1"\);$/m.test(entry), 'index.js renames functions to their own names');
    // The renames keepNames must keep stay (classes esbuild renamed: `var Thread = class _Thread`),
    // not those the language makes (`var ThreadInterruptedError = class`: a static block less).
    assert.match(lazy, /__name\(this, "Thread"\)/, 'the names keepNames must keep stay');
    assert.ok(!/__name\(this, "ThreadInterruptedError"\)/.test(entry), 'index.js renames a class to its own name');
  });

  it('keeps the names of the classes and functions whose renames the build drops', async () => {
    const entry = await import(new URL('../dist/index.js', import.meta.url).href);
    assert.equal(entry.ThreadInterruptedError.name, 'ThreadInterruptedError');
    assert.equal(new entry.ThreadInterruptedError().name, 'ThreadInterruptedError');
    assert.equal(entry.Lock.name, 'Lock');
    const text = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    for (const name of ['runThread', 'createState', 'loadModule', 'interruptedError']) {
      assert.match(text, new RegExp(`^var ${name} = +\\(\\((?:async )?function\\(`, 'm'), `${name}: not unwrapped`);
    }
  });

  it('stays unloaded in a thread that uses only the in-thread API, and loads to read a reason', async () => {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'inThreadApi', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt({ why: 'lazy' });
    assert.deepEqual(await within(thread.join()), {
      before: false,
      notALock: false,
      withoutReason: true,
      after: true,
      reason: { why: 'lazy' },
    });
  });

  it('stays unloaded when the reason is a string, as a shutdown sends', async () => {
    for (const reason of ['SIGINT', 'd\u00e9j\u00e0 vu \u20ac \u{1f600}']) {
      const sync = syncArray();
      const thread = new Thread(fixture, { export: 'stringReason', args: [sync] }).start();
      await waitFor(sync, 0, 1);
      thread.interrupt(reason);
      assert.deepEqual(await within(thread.join()), { reason, loaded: false });
    }
  });

  it('leaves rare.js unloaded in a thread that polls, sleeps and is interrupted, until it clears the interrupt', async () => {
    // The build keeps the rarely run parts of the light half (src/rare.ts) out of index.js.
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    assert.ok(!entry.includes('// src/abort-listeners.ts'), 'index.js bundles the abort listeners');
    // Nor the functions a thread runs only to do more than poll, sleep and end: each costs
    // every thread memory (scripts/build.mjs). index.js exports stand-ins (src/rare-export.ts).
    const moved = [
      ...['requestInterrupt', 'claimReasonArea', 'clearInterruptFlag', 'liveSlots'],
      ...['interruptionSignal', 'abortSignalIfInterrupted', 'watchFlag', 'trackAbortListeners'],
      ...['criticalSection', 'enterCriticalSection', 'enter', 'leave', 'isThenable', 'interruptible'],
      ...['sleepAsync', 'allowInterruption', 'enterAllowInterruption', 'asyncInterruptTrap'],
      ...['interruptAllThreads', 'notFoundMessage', 'moduleFileExists', 'targetLoadError'],
      ...['codedError', 'invalidArgType', 'describeValue', 'delayError', 'resultNotCloneableError'],
    ];
    for (const name of moved) {
      assert.ok(!new RegExp(`^(?:async )?function\\*? ?${name}\\d*\\(`, 'm').test(entry), `index.js holds ${name}`);
    }
    const modules = ['interruption-signal', 'critical-section', 'interruptible', 'sleep-async', 'thenable'];
    for (const module of [...modules, 'interrupt-all', 'target-errors', 'coded-errors', 'delay-error']) {
      assert.ok(!entry.includes(`// src/${module}.ts`), `index.js bundles src/${module}.ts`);
    }
    assert.ok(!entry.includes('// src/async-interrupt/regions.ts'), 'index.js bundles the regions');
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'rareParts', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt('stop');
    assert.deepEqual(await within(thread.join()), {
      atStart: false,
      afterInterrupt: false,
      reason: 'stop',
      wasSet: true,
      afterClear: true,
      heavy: false,
    });
  });

  it('leaves rare.js and heavy.js unloaded in a plain Worker that imports the package, polls and sleeps', async () => {
    // Its private control block is made as the package loads: from index.js, not from rare.js.
    const worker = new Worker(new URL('./fixtures/lazy-plain-worker.mjs', import.meta.url));
    try {
      const [loaded] = await within(once(worker, 'message'));
      assert.deepEqual(loaded, { rare: false, heavy: false });
    } finally {
      await worker.terminate();
    }
  });

  it('loads rare.js for a critical section, which then defers an interrupt to its end', async () => {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'criticalSectionLoadsRare', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt('later');
    assert.deepEqual(await within(thread.join()), {
      before: false,
      during: true,
      inside: 'deferred',
      after: 'later',
    });
  });

  it('exports stand-ins for the functions of rare.js and heavy.js with their names and lengths', () => {
    const functions = {
      interruptionSignal: [interruptionSignal, 0],
      criticalSection: [criticalSection, 1],
      enterCriticalSection: [enterCriticalSection, 0],
      interruptible: [interruptible, 1],
      sleepAsync: [sleepAsync, 1],
      allowInterruption: [allowInterruption, 1],
      enterAllowInterruption: [enterAllowInterruption, 0],
      interruptAllThreads: [interruptAllThreads, 1],
      shutdown: [shutdown, 1],
      configureShutdown: [configureShutdown, 1],
      setThreadErrorHandler: [setThreadErrorHandler, 1],
    } as const;
    for (const [name, [fn, length]] of Object.entries(functions)) {
      assert.equal(fn.name, name);
      assert.equal(fn.length, length, name);
    }
  });

  it('loads rare.js for interruptionSignal(), whose signal then aborts on an interrupt', async () => {
    const thread = new Thread(fixture, { export: 'signalLoadsRare' }).start();
    assert.deepEqual(await within(thread.join()), { before: false, after: true, aborted: true, reason: 'self' });
  });

  it('loads in a thread that makes a lock', async () => {
    const thread = new Thread(fixture, { export: 'makesALock' }).start();
    assert.deepEqual(await within(thread.join()), { before: false, after: true, isLock: true });
  });

  it('throws the exported ThreadInterruptedError from its waits, in a thread and in the main thread', async () => {
    const lock = new Lock();
    lock.acquire();
    try {
      const sync = syncArray();
      const thread = new Thread(fixture, { export: 'waitsForLock', args: [lock, sync] }).start();
      await waitFor(sync, 0, 1);
      thread.interrupt('stop');
      assert.deepEqual(await within(thread.join()), {
        sameClass: true,
        instance: true,
        lockIsLock: true,
        reason: 'stop',
      });
    } finally {
      lock.release();
    }
    currentThread().interrupt();
    try {
      assert.throws(
        () => new Lock().acquire(),
        (error: unknown) => (error as Error).constructor === ThreadInterruptedError,
      );
    } finally {
      clearInterrupt();
    }
  });
});

describe('the stand-ins of the lazily loaded classes', () => {
  const made = {
    Thread: () => new Thread(fixture),
    Lock: () => new Lock(),
    Event: () => new Event(),
    Semaphore: () => new Semaphore(1),
    Condition: () => new Condition(),
    Barrier: () => new Barrier(2),
  };
  const classes = { Thread, Lock, Event, Semaphore, Condition, Barrier };

  for (const [name, make] of Object.entries(made)) {
    const Class = classes[name as keyof typeof classes] as unknown as new (...args: unknown[]) => object;
    it(`${name}: new, instanceof, constructor and prototype are the class's`, () => {
      const instance = make();
      assert.ok(instance instanceof Class);
      assert.equal(instance.constructor, Class);
      assert.equal(Object.getPrototypeOf(instance), Class.prototype);
      assert.ok(!({} instanceof Class));
      assert.throws(() => (Class as unknown as () => unknown)(), TypeError, 'a class is not callable');
    });
  }

  it('can be extended, and the subclass constructs through the class', () => {
    class NamedLock extends Lock {
      readonly label: string;
      constructor(label: string) {
        super();
        this.label = label;
      }
    }
    const lock = new NamedLock('mine');
    assert.ok(lock instanceof NamedLock && lock instanceof Lock);
    assert.equal(lock.constructor, NamedLock);
    assert.equal(lock.label, 'mine');
    // The class's private state is there: its methods work on the subclass's instances.
    assert.equal(lock.tryAcquire(), true);
    assert.equal(lock.tryAcquire(), false);
    lock.release();
  });

  it('a subclass of Thread starts a thread', async () => {
    class Named extends Thread {}
    const thread = new Named(fixture, { export: 'makesALock' }).start();
    assert.ok(thread instanceof Thread);
    assert.deepEqual(await within(thread.join()), { before: false, after: true, isLock: true });
  });
});
