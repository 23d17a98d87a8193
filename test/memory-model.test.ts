import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

// The engine's optimizing compiler and how the fixture proves it compiled the loop: V8's natives
// (Node, Deno), or bun:jsc (Bun, JavaScriptCore).
const onBun = process.versions.bun !== undefined;

describe('interruptionRequested() under the optimizing compiler', () => {
  it(`sees an interrupt inside a tight loop compiled by ${onBun ? "JavaScriptCore's DFG and FTL" : 'TurboFan'}`, async () => {
    const sync = syncArray();
    const fixture = onBun ? './fixtures/memory-model-jsc.mjs' : './fixtures/memory-model.mjs';
    const thread = new Thread(new URL(fixture, import.meta.url), { args: [sync] }).start();
    await waitFor(sync, 0, 1, 60_000);
    thread.interrupt();
    const result = (await within(thread.join(), 60_000)) as Record<string, unknown>;
    if (onBun) {
      assert.equal(result.optimized, true, 'the loop was compiled by the DFG before the interrupt');
    } else {
      assert.equal(
        result.turbofanned,
        true,
        `the loop was optimized before the interrupt (V8 status ${result.status})`,
      );
    }
    assert.ok(Number.isFinite(result.spins), 'the loop ended');
  });
});
