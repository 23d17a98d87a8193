// When join() settles (src/thread.ts): on the worker's 'exit', once the thread has fully stopped,
// not when its target's outcome arrives; and the exit path's head start in a fresh process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { liveThreadCount, syncArray, within } from './helpers.ts';

const fixture = new URL('./fixtures/join.mjs', import.meta.url);

describe('join() settles once the thread has stopped', () => {
  it('after the async work its target left behind has run', async () => {
    const shared = syncArray();
    // The outcome arrives at once; the thread ends 200 ms later, when its timer has run.
    const thread = new Thread(fixture, { export: 'returnsLeavingATimer', args: [shared, 200] }).start();
    assert.equal(await within(thread.join()), 'returned');
    assert.equal(Atomics.load(shared, 0), 1, "the timer's write, made after the target returned, is visible");
    assert.equal(thread.state, 'finished');
  });

  it('with its slot free', async () => {
    const before = liveThreadCount();
    const thread = new Thread(fixture, { export: 'returnsLeavingATimer', args: [syncArray(), 50] }).start();
    assert.equal(liveThreadCount(), before + 1);
    await within(thread.join());
    assert.equal(liveThreadCount(), before, 'the slot is released before join() settles');
  });

  it('when the target returns while something listens to its interruption signal', async () => {
    // The listener makes the signal's watcher hold the thread's keep-alive; returning lets go.
    const thread = new Thread(fixture, { export: 'returnsWhileListening' }).start();
    assert.equal(await within(thread.join()), 'returned');
    assert.equal(thread.state, 'finished');
  });
});

describe('the first threads of a fresh process', () => {
  it('are numbered, counted and joined as if nothing ran before them', async () => {
    // The first start() runs the interrupt and exit paths once, on a thread of its own that
    // never starts: it must take no thread number, no slot of the group, and keep nothing alive.
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [fixture.pathname, '--fresh-process'], { timeout: 60_000 }, (error, out, err) =>
        error === null ? resolve(out) : reject(Object.assign(error, { stderr: err })),
      );
    });
    assert.deepEqual(JSON.parse(stdout), {
      names: ['Thread-1', 'Thread-2'],
      interrupted: 2,
      results: ['undefined', 'undefined'],
      states: ['interrupted', 'interrupted'],
    });
  });
});
