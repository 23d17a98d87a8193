import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossThreadNow, Thread } from 'graceful-threads';
import { within } from './helpers.ts';

describe('crossThreadNow()', () => {
  it('orders stamps taken in turn by a thread and the main thread', async () => {
    // Turns hand over through shared memory, so each stamp is taken after the one before it in
    // another thread: a clock whose origin differs per thread (process.hrtime on Deno and Bun,
    // performance.now() anywhere) puts one side's stamps before the other's.
    const turns = 400;
    const turn = new Int32Array(new SharedArrayBuffer(4));
    const stamps = new Float64Array(new SharedArrayBuffer(turns * 8));
    const thread = new Thread(new URL('./fixtures/clock.mjs', import.meta.url), { args: [turn, stamps] }).start();
    for (let i = 1; i < turns; i += 2) {
      while (Atomics.load(turn, 0) !== i) {
        // Blocking the main thread is fine here: the thread needs nothing from its event loop.
        if (Atomics.wait(turn, 0, Atomics.load(turn, 0), 20_000) === 'timed-out') throw new Error(`no turn ${i}`);
      }
      stamps[i] = crossThreadNow();
      Atomics.store(turn, 0, i + 1);
      Atomics.notify(turn, 0);
    }
    await within(thread.join());
    for (let i = 1; i < turns; i++) {
      assert.ok(
        stamps[i]! >= stamps[i - 1]!,
        `stamp ${i} (${i % 2 === 0 ? 'thread' : 'main'}) is ${(stamps[i - 1]! - stamps[i]!).toFixed(4)} ms before stamp ${i - 1}`,
      );
    }
    // And it is the wall clock's time line: Date.now() agrees to its millisecond.
    assert.ok(Math.abs(crossThreadNow() - Date.now()) < 50);
  });
});
