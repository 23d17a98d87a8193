// What a thread runs on its way out, between an interrupt and join() settling (its slot marked
// finished, then ended): V8 compiles a function on its first call, 10-30 us each there, so the
// bootstrap compiles them just before the thread first blocks (src/bootstrap.ts, warmExitPath),
// on a slot reference that is not live, and the thread's 'exit' listeners with their module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { allocateSlot, endedExitCode, liveSlots, releaseSlot, targetFinished } from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/exit-path.mjs', import.meta.url);

describe("a thread's exit path", () => {
  it('is compiled as the thread first blocks', async () => {
    const thread = new Thread(fixture, { export: 'warmedOnFirstBlock' }).start();
    assert.deepEqual(await within(thread.join()), ['function', 'undefined']);
  });

  it("does not hold what Node runs in the thread's first event-loop turn: the target starts after that turn", async () => {
    // Else a target that blocks from its first instruction left it (the module loader's own
    // bookkeeping, Node 24 and 26) to run between its interrupt and its end.
    const thread = new Thread(fixture, { export: 'afterFirstTurn' }).start();
    assert.equal(await within(thread.join()), true);
  });

  it('marks nothing as it compiles: the slot of a thread asleep after it is neither finished nor ended', async () => {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'asleepAfterWarming', args: [sync] }).start();
    try {
      await waitFor(sync, 0, 1);
      const registry = state.registry!;
      const slots = [...liveSlots(registry)];
      assert.ok(slots.length > 0, 'the sleeping thread holds a slot');
      for (const slot of slots) {
        assert.equal(targetFinished(registry, slot), false);
        assert.equal(endedExitCode(registry, slot), undefined);
      }
      assert.throws(() => thread.joinSync(100), { code: 'ERR_THREAD_JOIN_TIMEOUT' });
    } finally {
      thread.interrupt();
      await within(thread.join());
    }
    assert.equal(thread.state, 'interrupted');
  });

  it("marks nothing when the thread's slot was freed and taken by another thread before it first blocks", async () => {
    // Deno's terminate() leaves the worker running (denoland/deno#35657): its parent frees its
    // slot on 'exit', a new thread may take it at the next generation, and the old thread then
    // blocks for the first time. Simulated here by freeing and taking the slot from this thread.
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'blocksAfterItsSlotIsReused', args: [sync] }).start();
    const registry = state.registry!;
    await waitFor(sync, 0, 1);
    const old = { slot: Atomics.load(sync, 1), gen: Atomics.load(sync, 2) };
    releaseSlot(registry, old);
    const reused = allocateSlot(registry, undefined);
    try {
      assert.deepEqual(reused, { slot: old.slot, gen: old.gen + 1 }, 'the freed slot is the lowest free one');
      Atomics.store(sync, 0, 2);
      await waitFor(sync, 0, 3);
      assert.equal(targetFinished(registry, reused!), false, "the slot's new thread is not marked finished");
      assert.equal(endedExitCode(registry, reused!), undefined, "the slot's new thread is not marked ended");
      await within(thread.join());
    } finally {
      if (reused !== undefined) releaseSlot(registry, reused);
    }
  });

  it("has what a signal's shutdown runs in the main thread compiled with its module, where no rehearsal can run it (parenthesized function expressions)", () => {
    // closeAllPools: the first call after a signal, ahead of the interrupts (a rehearsal would
    // close the pools); exitProcess: the last (a rehearsal would exit); workerExited: each
    // thread's end as it reaches the main thread; processExit and exit: the process's 'exit';
    // unsent: the look at what is left to write, which the rehearsal runs on no stream.
    const heavy = readFileSync(new URL('../dist/heavy.js', import.meta.url), 'utf8');
    for (const name of ['closeAllPools', 'exitProcess', 'workerExited', 'processExit', 'exit', 'unsent']) {
      assert.match(
        heavy,
        new RegExp(`[,=(]\\s*\\(function ${name}\\d*\\(`),
        `${name} is not a parenthesized function expression`,
      );
    }
  });

  it("has the thread's 'exit' listeners, the error of its wake-up and what runs as its loop empties compiled with their module (parenthesized function expressions)", () => {
    // A parenthesized function expression is V8's eager-compilation hint on Node 20 too (a
    // parenthesized arrow only on 24 and newer); the build must keep the parentheses. endThread:
    // the bootstrap's last call; idleListener: the keep-alive's 'beforeExit' listener, which stays
    // once closed; outputGetter: the stdout/stderr watch, which Node's own read of process.stdout
    // runs as a thread that never printed ends.
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    for (const name of [
      'last',
      'threadEnded',
      'interruptedError',
      'interruptedErrorAfterWait',
      'endThread',
      'idleListener',
      'outputGetter',
    ]) {
      assert.match(
        entry,
        // Named, or anonymous and named by its const (no esbuild-renamed copy of the name to
        // intern), through __name() or, at the top level, the language (scripts/build.mjs).
        new RegExp(`\\(function ${name}\\d*\\(|${namedByConst(name)}`),
        `${name} is not a parenthesized function expression`,
      );
    }
  });

  it('has what every thread runs before its target compiled with the module (parenthesized function expressions)', () => {
    // What src/bootstrap.ts lists: each compiled on its first call instead, as the thread starts,
    // cost it 0.2-0.3 ms in all (Node 26).
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    for (const name of [
      'readStartData',
      'claimStartData',
      'createState',
      'baseState',
      'openControlBlock',
      'isControlMemory',
      'flagIndex',
      'parkIndex',
      'field',
      'seenIndex',
      'interruptSeqIndex',
      'runThread',
      'loadTarget',
      'loadModule',
      'createKeepAlive',
      'onThreadEnd',
      'onFatalError',
      'watchOutput',
      'flagCheck',
      'lazyExport',
      'lazyClass',
      'provideInternals',
    ]) {
      assert.match(
        entry,
        new RegExp(`^${namedByConst(name)}`, 'm'),
        `${name} is not a parenthesized function expression`,
      );
    }
    assert.match(entry, /\(async function run\d*\(/, 'run is not a parenthesized function expression');
    assert.match(
      entry,
      /\(function exitListenerAdded\d*\(/,
      'exitListenerAdded is not a parenthesized function expression',
    );
  });
});

/** A pattern for `const name = (function (…)` as the bundle writes it, the function named by its const. */
function namedByConst(name: string): string {
  return `(?:var|const) ${name} = (?:/\\* @__PURE__ \\*/ __name\\(| *\\()\\((?:async )?function\\(`;
}
