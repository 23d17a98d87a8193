import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AtomicOps } from '../src/control-block.ts';
import {
  allocateSlot,
  clearInterruptFlag,
  createControlBlock,
  endedOnInterrupt,
  endedUnread,
  flagIndex,
  HAS_REASON,
  isInterruptRequested,
  isLive,
  LIVE,
  liveSlots,
  markEnded,
  markEndedOnInterrupt,
  markFinished,
  NEVER_LIVE,
  openControlBlock,
  parkIndex,
  REASON_BYTES,
  readReason,
  releaseSlot,
  requestInterrupt,
  slotWords,
  watchersIndex,
} from '../src/control-block.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('control block', () => {
  it('allocates slots until full, and reuses a released slot with the next generation', () => {
    const block = createControlBlock(2);
    const a = allocateSlot(block, undefined);
    const b = allocateSlot(block, undefined);
    assert.ok(a && b);
    assert.notEqual(a.slot, b.slot);
    assert.equal(allocateSlot(block, undefined), undefined, 'full');
    releaseSlot(block, a);
    assert.equal(isLive(block, a), false);
    const c = allocateSlot(block, undefined);
    assert.ok(c);
    assert.equal(c.slot, a.slot);
    assert.equal(c.gen, a.gen + 1);
  });

  it('NEVER_LIVE is live at no time: the marks of a way out do nothing on it', () => {
    // A thread compiles its way out on NEVER_LIVE (src/bootstrap.ts): were it live, it would mark
    // some thread finished and ended.
    const block = createControlBlock(2);
    const a = allocateSlot(block, undefined)!;
    const b = allocateSlot(block, a.slot)!;
    const before = Int32Array.from(block.words);
    assert.equal(isLive(block, NEVER_LIVE), false);
    markFinished(block, NEVER_LIVE, 'output-in-flight');
    markEndedOnInterrupt(block, NEVER_LIVE);
    markEnded(block, NEVER_LIVE, 0, true);
    assert.deepEqual(Int32Array.from(block.words), before, 'no word changed');
    releaseSlot(block, a);
    assert.equal(isLive(block, b), false);
    assert.equal(isLive(block, NEVER_LIVE), false);
  });

  it("keeps a thread's interrupted outcome and its printed output to its own generation of the slot", () => {
    const block = createControlBlock(1);
    const old = allocateSlot(block, undefined)!;
    assert.equal(endedOnInterrupt(block, old), false);
    markEndedOnInterrupt(block, old);
    assert.equal(endedOnInterrupt(block, old), true);
    assert.equal(endedUnread(block, old), false, 'not ended yet');
    markEnded(block, old, 0, true);
    assert.equal(endedUnread(block, old), true);
    releaseSlot(block, old);
    assert.equal(endedOnInterrupt(block, old), false, 'a freed slot tells nothing');
    const next = allocateSlot(block, undefined)!;
    assert.equal(next.slot, old.slot);
    assert.equal(endedOnInterrupt(block, next), false, "the last thread's outcome is not the next one's");
    assert.equal(endedOnInterrupt(block, old), false, 'nor is the next one read through a stale reference');
    markEnded(block, next, 0);
    assert.equal(endedUnread(block, next), false, "the last thread's output is not the next one's");
  });

  it('a stale handle cannot interrupt the thread that reuses its slot', () => {
    const block = createControlBlock(1);
    const old = allocateSlot(block, undefined)!;
    releaseSlot(block, old);
    const fresh = allocateSlot(block, undefined)!;
    assert.equal(requestInterrupt(block, old, undefined, undefined), 'gone');
    assert.equal(isInterruptRequested(block, fresh), false);
    assert.equal(requestInterrupt(block, fresh, undefined, undefined), 'set');
    assert.equal(isInterruptRequested(block, fresh), true);
  });

  it('keeps the first reason until cleared, and tells a new interrupt from an old one', () => {
    const block = createControlBlock(1);
    const ref = allocateSlot(block, undefined)!;
    assert.equal(readReason(block, ref), undefined, 'no interrupt, no reason');
    assert.equal(requestInterrupt(block, ref, bytes(1, 2, 3), undefined), 'set');
    assert.equal(requestInterrupt(block, ref, bytes(9), undefined), 'already-set');
    const first = readReason(block, ref);
    assert.ok(first && first !== 'unchanged');
    assert.deepEqual(first.bytes, bytes(1, 2, 3));
    assert.equal(readReason(block, ref, first.seq), 'unchanged');
    assert.equal(clearInterruptFlag(block, ref), true);
    assert.equal(clearInterruptFlag(block, ref), false);
    requestInterrupt(block, ref, undefined, undefined);
    const second = readReason(block, ref, first.seq);
    assert.ok(second && second !== 'unchanged');
    assert.notEqual(second.seq, first.seq);
    assert.equal(second.bytes, undefined);
  });

  it('holds a reason of up to REASON_BYTES bytes', () => {
    const block = createControlBlock(3);
    const refs = [allocateSlot(block, undefined)!, allocateSlot(block, undefined)!, allocateSlot(block, undefined)!];
    const big = new Uint8Array(REASON_BYTES).fill(7);
    requestInterrupt(block, refs[1]!, big, undefined);
    requestInterrupt(block, refs[2]!, bytes(5), undefined);
    const stored = readReason(block, refs[1]!);
    assert.ok(stored && stored !== 'unchanged');
    assert.deepEqual(stored.bytes, big, 'a neighbour’s reason does not overwrite it');
  });

  it('releasing a slot releases the slots of its descendants', () => {
    const block = createControlBlock(8);
    const parent = allocateSlot(block, undefined)!;
    const child = allocateSlot(block, parent.slot)!;
    const grandchild = allocateSlot(block, child.slot)!;
    const unrelated = allocateSlot(block, undefined)!;
    releaseSlot(block, parent);
    assert.deepEqual(
      [...liveSlots(block)].map((ref) => ref.slot),
      [unrelated.slot],
    );
    assert.equal(isLive(block, grandchild), false);
  });

  it('a reused slot forgets its former parent', () => {
    const block = createControlBlock(2);
    const parent = allocateSlot(block, undefined)!;
    const child = allocateSlot(block, parent.slot)!;
    releaseSlot(block, child);
    const stranger = allocateSlot(block, undefined)!;
    assert.equal(stranger.slot, child.slot, 'the only free slot');
    releaseSlot(block, parent);
    assert.equal(isLive(block, stranger), true, 'not taken for the released parent’s child');
  });

  it('an interrupt never lands on a free slot, and a free slot is handed out clean', () => {
    const block = createControlBlock(1);
    const ref = allocateSlot(block, undefined)!;
    releaseSlot(block, ref);
    const free = Atomics.load(block.words, flagIndex(ref.slot));
    // A ref carrying the *next* generation (what a scan racing the release would compute).
    assert.equal(requestInterrupt(block, { slot: ref.slot, gen: ref.gen + 1 }, bytes(1), undefined), 'gone');
    assert.equal(Atomics.load(block.words, flagIndex(ref.slot)), free, 'the free word is untouched');
    const next = allocateSlot(block, undefined)!;
    assert.equal(isInterruptRequested(block, next), false);
    assert.equal(Atomics.load(block.words, flagIndex(next.slot)) & (LIVE | HAS_REASON | 1), LIVE);
  });

  it('a thread started by the root is no child of slot 0', () => {
    const block = createControlBlock(3);
    const first = allocateSlot(block, undefined)!;
    assert.equal(first.slot, 0);
    const rootChild = allocateSlot(block, undefined)!;
    releaseSlot(block, first);
    assert.equal(isLive(block, rootChild), true);
  });

  it('releasing a thread that died mid-interrupt frees the reason area it held and clears its record', () => {
    const block = createControlBlock(2);
    const target = allocateSlot(block, undefined)!;
    const dead = allocateSlot(block, undefined)!;
    // What the interrupter had done when it was stopped: recorded its target, took the claim.
    Atomics.store(block.words, flagIndex(dead.slot) + 7, target.slot + 1);
    Atomics.store(block.words, flagIndex(target.slot) + 4, dead.slot + 1);
    releaseSlot(block, dead);
    assert.equal(slotWords(block, target.slot).reasonClaim, 0);
    assert.equal(requestInterrupt(block, target, bytes(4, 2), undefined), 'set');
    const stored = readReason(block, target);
    assert.ok(stored && stored !== 'unchanged');
    assert.deepEqual(stored.bytes, bytes(4, 2), 'the next interrupter could write its reason');
  });

  it('an interrupter that cannot get the reason area within its bound still interrupts, without a reason', () => {
    const block = createControlBlock(2);
    const target = allocateSlot(block, undefined)!;
    const interrupter = allocateSlot(block, undefined)!;
    Atomics.store(block.words, flagIndex(target.slot) + 4, 99); // held by a stalled writer
    const started = performance.now();
    assert.equal(requestInterrupt(block, target, bytes(1), interrupter.slot), 'set');
    assert.ok(performance.now() - started >= 90, 'waited for the writer first');
    const stored = readReason(block, target);
    assert.ok(stored && stored !== 'unchanged');
    assert.equal(stored.bytes, undefined);
    assert.equal(slotWords(block, target.slot).reasonClaim, 99, 'the stalled writer still holds it');
  });

  it("an interrupt's last step is the notify of the park word (where sleep() and the waits block), after the flag's when a watcher waits there", () => {
    const shared = createControlBlock(2);
    const target = allocateSlot(shared, undefined)!;
    const interrupter = allocateSlot(shared, undefined)!;
    const ops: string[] = [];
    const record = (op: string, index: number): void => {
      const name =
        index === flagIndex(target.slot)
          ? 'flag'
          : index === parkIndex(target.slot)
            ? 'park'
            : index === watchersIndex(target.slot)
              ? 'watchers'
              : String(index);
      ops.push(`${op} ${name}`);
    };
    const recording: AtomicOps = {
      load: (words, index) => {
        // Only the count's load: reading it before the flag is set would lose a watcher's wake-up.
        if (index === watchersIndex(target.slot)) record('load', index);
        return Atomics.load(words, index);
      },
      store: (words, index, value) => Atomics.store(words, index, value),
      add: (words, index, value) => {
        record('add', index);
        return Atomics.add(words, index, value);
      },
      compareExchange: (words, index, expected, replacement) => {
        record('cas', index);
        return Atomics.compareExchange(words, index, expected, replacement);
      },
      notify: (words, index, count) => {
        record('notify', index);
        return Atomics.notify(words, index, count);
      },
      wait: (words, index, value, timeout) => Atomics.wait(words, index, value, timeout),
    };
    const block = openControlBlock(shared.memory, recording);
    for (const caller of [undefined, interrupter.slot]) {
      for (const watchers of [0, 1]) {
        // A watcher (the interruption signal's) counted on the slot: only then is the flag notified.
        Atomics.store(shared.words, watchersIndex(target.slot), watchers);
        ops.length = 0;
        assert.equal(requestInterrupt(block, target, undefined, caller), 'set');
        // A thread woken by an earlier step waits for the ones after it (15-25 us more on Node).
        const flag = watchers === 0 ? [] : ['notify flag'];
        assert.deepEqual(ops.slice(-4 - flag.length), [
          'cas flag',
          'load watchers',
          ...flag,
          'add park',
          'notify park',
        ]);
        assert.equal(ops.filter((op) => op === 'load watchers').length, 1, 'the count is read once, after the CAS');
        ops.length = 0;
        assert.equal(requestInterrupt(block, target, undefined, caller), 'already-set');
        assert.deepEqual(ops, ['notify flag', 'notify park'], 'a repeat wakes again, the park word last');
        clearInterruptFlag(block, target);
      }
    }
  });
});
