import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocateSlot,
  clearInterruptFlag,
  createControlBlock,
  flagIndex,
  isInterruptRequested,
  isLive,
  liveSlots,
  REASON_BYTES,
  REASON_READY,
  readReason,
  releaseSlot,
  requestInterrupt,
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

  it('a stale handle cannot interrupt the thread that reuses its slot', () => {
    const block = createControlBlock(1);
    const old = allocateSlot(block, undefined)!;
    releaseSlot(block, old);
    const fresh = allocateSlot(block, undefined)!;
    assert.equal(requestInterrupt(block, old, undefined), 'gone');
    assert.equal(isInterruptRequested(block, fresh), false);
    assert.equal(requestInterrupt(block, fresh, undefined), 'set');
    assert.equal(isInterruptRequested(block, fresh), true);
  });

  it('keeps the first reason until cleared, and tells a new interrupt from an old one', () => {
    const block = createControlBlock(1);
    const ref = allocateSlot(block, undefined)!;
    assert.equal(readReason(block, ref), undefined, 'no interrupt, no reason');
    assert.equal(requestInterrupt(block, ref, bytes(1, 2, 3)), 'set');
    assert.equal(requestInterrupt(block, ref, bytes(9)), 'already-set');
    const first = readReason(block, ref);
    assert.ok(first && first !== 'unchanged');
    assert.deepEqual(first.bytes, bytes(1, 2, 3));
    assert.equal(readReason(block, ref, first.seq), 'unchanged');
    assert.equal(clearInterruptFlag(block, ref), true);
    assert.equal(clearInterruptFlag(block, ref), false);
    requestInterrupt(block, ref, undefined);
    const second = readReason(block, ref, first.seq);
    assert.ok(second && second !== 'unchanged');
    assert.notEqual(second.seq, first.seq);
    assert.equal(second.bytes, undefined);
  });

  it('holds a reason of up to REASON_BYTES bytes', () => {
    const block = createControlBlock(3);
    const refs = [allocateSlot(block, undefined)!, allocateSlot(block, undefined)!, allocateSlot(block, undefined)!];
    const big = new Uint8Array(REASON_BYTES).fill(7);
    requestInterrupt(block, refs[1]!, big);
    requestInterrupt(block, refs[2]!, bytes(5));
    const stored = readReason(block, refs[1]!);
    assert.ok(stored && stored !== 'unchanged');
    assert.deepEqual(stored.bytes, big, 'a neighbour’s reason does not overwrite it');
  });

  it('releasing a slot releases the slots of its descendants', () => {
    const block = createControlBlock(8);
    const parent = allocateSlot(block, undefined)!;
    const child = allocateSlot(block, parent)!;
    const grandchild = allocateSlot(block, child)!;
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
    const child = allocateSlot(block, parent)!;
    releaseSlot(block, child);
    const stranger = allocateSlot(block, undefined)!;
    assert.equal(stranger.slot, child.slot, 'the only free slot');
    releaseSlot(block, parent);
    assert.equal(isLive(block, stranger), true, 'not taken for the released parent’s child');
  });

  it('a reader whose writer died mid-copy gets the flag without a reason, after a bounded wait', () => {
    const block = createControlBlock(1);
    const ref = allocateSlot(block, undefined)!;
    // Simulate an interrupter terminated between its two steps: requested, reason never ready.
    Atomics.store(block.words, flagIndex(ref.slot), (ref.gen << 2) | 1);
    assert.equal(isInterruptRequested(block, ref), true);
    const stored = readReason(block, ref);
    assert.ok(stored && stored !== 'unchanged');
    assert.equal(stored.bytes, undefined);
    const word = Atomics.load(block.words, flagIndex(ref.slot));
    assert.equal(word & REASON_READY, REASON_READY, 'marked readable: later readers do not wait again');
    assert.equal(clearInterruptFlag(block, ref), true);
  });
});
