/**
 * A shutdown's first pass against threads ending during it, with real threads: the pass is held
 * at a chosen step (through the atomic operations its view of the registry makes) while another
 * thread does what a race would have it do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import {
  type AtomicOps,
  flagIndex,
  generationOf,
  liveSlots,
  openControlBlock,
  REQUESTED,
  readSlotReport,
  type SlotRef,
} from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';
import { liveThreadCount, syncArray, waitFor, within } from './helpers.ts';

const targets = new URL('./fixtures/shutdown-targets.mjs', import.meta.url);

// The internal sequence shutdown() runs, from the sources: loaded after the Thread module, as the
// package's entry loads them (the shutdown modules import each other in a cycle).
await import('../src/thread.ts');
const { runShutdown } = await import('../src/shutdown/shutdown.ts');

/** The live slot of the thread named `name`. */
function slotNamed(name: string): SlotRef {
  const registry = state.registry!;
  for (const ref of liveSlots(registry)) if (readSlotReport(registry, ref)?.name === name) return ref;
  throw new Error(`no live thread named ${name}`);
}

/**
 * Atomics, except that the compare-and-swap that interrupts `target` then blocks until the slot
 * is freed (its generation moves on), bounded: `freed()` says whether it was.
 */
function holdAfterInterrupting(target: SlotRef): { atomics: AtomicOps; freed: () => boolean } {
  let freed = false;
  const index = flagIndex(target.slot);
  const atomics: AtomicOps = {
    load: (words, i) => Atomics.load(words, i),
    store: (words, i, value) => Atomics.store(words, i, value),
    add: (words, i, value) => Atomics.add(words, i, value),
    notify: (words, i, count) => Atomics.notify(words, i, count),
    wait: (words, i, value, timeout) => Atomics.wait(words, i, value, timeout),
    compareExchange(words, i, expected, replacement) {
      const prior = Atomics.compareExchange(words, i, expected, replacement);
      const interrupts = prior === expected && (expected & REQUESTED) === 0 && (replacement & REQUESTED) !== 0;
      if (i === index && interrupts && generationOf(expected) === target.gen) {
        const deadline = performance.now() + 30_000;
        for (;;) {
          const word = Atomics.load(words, i);
          const left = deadline - performance.now();
          if (generationOf(word) !== target.gen || left <= 0) break;
          Atomics.wait(words, i, word, left);
        }
        freed = generationOf(Atomics.load(words, i)) !== target.gen;
      }
      return prior;
    },
  };
  return { atomics, freed: () => freed };
}

describe("a shutdown's first pass", () => {
  it('reports a nested thread that ends, its slot freed by its parent, between its interrupt and its record', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-shutdown-race-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sync = syncArray();
    const parent = new Thread(targets, { export: 'nested', name: 'parent', args: [sync, join(dir, 'p')] }).start();
    await waitFor(sync, 0, 2);
    const child = slotNamed('nested-child');
    const hold = holdAfterInterrupting(child);
    // The pass, held once it has interrupted the child until the parent (which joins it) has
    // seen it end and freed its slot.
    const view = openControlBlock(state.registry!.memory, hold.atomics);
    const report = await within(runShutdown(view, undefined, 30_000, { forceNow: undefined }), 60_000, 'the shutdown');
    assert.equal(hold.freed(), true, "the child's slot was freed during the pass (the race this test sets up)");
    assert.deepEqual(report.terminated, []);
    assert.deepEqual(report.ended.map((r) => r.name).sort(), ['nested-child', 'parent']);
    const record = report.ended.find((r) => r.name === 'nested-child')!;
    assert.ok(record.threadId > 0, `the child's thread id: ${record.threadId}`);
    assert.notEqual(record.threadId, parent.threadId);
    assert.equal(await within(parent.join()), undefined);
    assert.equal(liveThreadCount(), 0);
  });
});
