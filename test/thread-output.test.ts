// Whether a thread marks its end "unread" (src/bootstrap.ts, markEnded): a shutdown then waits
// for that thread's worker to be torn down, so that what it printed last reaches the parent
// before the process exits. It must be so for a thread that wrote to its stdout or stderr, and
// not for one that only had them read: Node's own handler of the message a parent sends as it
// starts reading a worker's output reads both streams in every thread, and a thread blocked from
// its start handles it only on its way out (every thread of a shutdown was counted as having
// printed: the shutdown waited for all their workers' ends).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { END_COUNTER_INDEX, endedExitCode, endedUnread, type SlotRef } from '../src/control-block.ts';
import { state } from '../src/thread-state.ts';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/thread-output.mjs', import.meta.url);

/**
 * Interrupts the fixture thread `name` once it sleeps and reads its slot as it ends, before this
 * thread's event loop can see its worker's exit (which frees the slot): this thread blocks until
 * the thread has marked its end.
 */
async function unreadAtEnd(name: string): Promise<boolean> {
  const sync = syncArray();
  const thread = new Thread(fixture, { export: name, args: [sync] }).start();
  await waitFor(sync, 0, 1);
  const registry = state.registry!;
  const ref: SlotRef = { slot: Atomics.load(sync, 1), gen: Atomics.load(sync, 2) };
  const deadline = Date.now() + 20_000;
  thread.interrupt();
  for (;;) {
    const seen = Atomics.load(registry.words, END_COUNTER_INDEX);
    if (endedExitCode(registry, ref) !== undefined) break;
    assert.ok(Date.now() < deadline, `thread ${name} did not mark its end within 20 s`);
    Atomics.wait(registry.words, END_COUNTER_INDEX, seen, 1000);
  }
  const unread = endedUnread(registry, ref);
  await within(thread.join().catch(() => {}));
  assert.equal(thread.state, 'interrupted');
  return unread;
}

describe("a thread's end, as read or not by its parent", () => {
  it('is not unread when the thread wrote nothing, though Node read its stdout and stderr on its way out', async () => {
    assert.equal(await unreadAtEnd('silent'), false);
  });

  it('is unread when the thread wrote to its stdout', async () => {
    assert.equal(await unreadAtEnd('printsFirst'), true);
  });

  it('is unread when the thread wrote only corked chunks (they reach the stream through _writev)', async () => {
    assert.equal(await unreadAtEnd('printsCorked'), true);
  });

  it("is unread when the thread wrote to its stderr from an 'exit' listener", async () => {
    assert.equal(await unreadAtEnd('printsFromExit'), true);
  });
});
