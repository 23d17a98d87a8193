import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

describe('interruptionRequested() under the optimizing compiler', () => {
  it('sees an interrupt inside a tight loop compiled by TurboFan', async () => {
    const sync = syncArray();
    const thread = new Thread(new URL('./fixtures/memory-model.mjs', import.meta.url), {
      args: [sync],
    }).start();
    await waitFor(sync, 0, 1, 60_000);
    thread.interrupt();
    const result = (await within(thread.join(), 60_000)) as Record<string, unknown>;
    assert.equal(result.turbofanned, true, `the loop was optimized before the interrupt (V8 status ${result.status})`);
    assert.ok(Number.isFinite(result.spins), 'the loop ended');
  });
});
