// What a thread runs on its way out, between an interrupt and join() settling (its slot marked
// finished, then ended): V8 compiles a function on its first call, 10-30 us each there, so the
// bootstrap compiles them just before the thread first blocks (src/bootstrap.ts, warmExitPath),
// on a slot reference that is not live, and the thread's 'exit' listeners with their module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { endedExitCode, liveSlots, targetFinished } from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/exit-path.mjs', import.meta.url);

describe("a thread's exit path", () => {
  it('is compiled as the thread first blocks', async () => {
    const thread = new Thread(fixture, { export: 'warmedOnFirstBlock' }).start();
    assert.deepEqual(await within(thread.join()), ['function', 'undefined']);
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

  it("has the thread's 'exit' listeners compiled with their module (parenthesized function expressions)", () => {
    // A parenthesized function expression is V8's eager-compilation hint on Node 20 too (a
    // parenthesized arrow only on 24 and newer); the build must keep the parentheses.
    const entry = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    for (const name of ['last', 'threadEnded']) {
      assert.match(
        entry,
        new RegExp(`\\(function ${name}\\d*\\(`),
        `${name} is not a parenthesized function expression`,
      );
    }
  });
});
