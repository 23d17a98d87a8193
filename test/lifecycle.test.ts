// How long a thread lives (src/bootstrap.ts, and the interruption signal's hold on the thread in
// src/current.ts) and how it ends when its target awaits what nothing can settle.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { idleButAlive, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/lifecycle.mjs', import.meta.url);

function start(exportName: string, ...args: unknown[]): Thread {
  return new Thread(fixture, { export: exportName, args }).start();
}

const unsettled = { name: 'Error', code: 'ERR_THREAD_UNSETTLED', message: /still pending/ };

describe('a target whose promise never settles', () => {
  it('rejects join() with ERR_THREAD_UNSETTLED once nothing is left to settle it', async () => {
    const thread = new Thread(fixture, { export: 'pendingForever', name: 'stuck' }).start();
    await assert.rejects(within(thread.join()), { ...unsettled, message: /Thread "stuck" .*still pending/ });
    assert.equal(thread.state, 'failed');
  });

  it('prints no warning that points into the library', async () => {
    // Node 24 and newer print "Detected unsettled top-level await" from native code straight to
    // the process's stderr, which a Worker's stderr option does not capture: run a program.
    const program = new URL('./fixtures/unsettled-main.mjs', import.meta.url);
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [program.pathname], { timeout: 60_000 }, (error, out, err) =>
        error === null ? resolve({ stdout: out, stderr: err }) : reject(Object.assign(error, { stderr: err })),
      );
    });
    assert.equal(stdout.trim(), 'ERR_THREAD_UNSETTLED');
    assert.equal(stderr, '', 'nothing on stderr');
  });

  it('rejects with ERR_THREAD_UNSETTLED when the module’s top-level await never settles', async () => {
    const thread = new Thread(new URL('./fixtures/pending-module.mjs', import.meta.url)).start();
    await assert.rejects(within(thread.join()), unsettled);
  });

  it('still rejects with ERR_THREAD_EXITED and the code for process.exit(0)', async () => {
    const thread = start('exitsWithZero');
    await assert.rejects(within(thread.join()), { code: 'ERR_THREAD_EXITED', exitCode: 0 });
  });

  it('resolves when work scheduled after the loop emptied settles it after all', async () => {
    const thread = start('settledAfterIdle');
    assert.equal(await within(thread.join()), 'settled late');
    assert.equal(thread.state, 'finished');
  });

  it('keeps the result of a target that returned when its loop empties again afterwards', async () => {
    // The thread's 'beforeExit' listener stays once its target has settled: it must then say nothing.
    const thread = start('returnsThenMoreWorkAtIdle');
    assert.equal(await within(thread.join()), 'returned');
    assert.equal(thread.state, 'finished');
  });
});

describe('interruptionSignal() and the thread’s lifetime', () => {
  it('lets a thread that asked for the signal end when nothing listens to it', async () => {
    const thread = start('signalThenPending');
    await assert.rejects(within(thread.join()), unsettled);
  });

  for (const how of ['addEventListener', 'onabort', 'events.once', 'unref timer']) {
    it(`keeps a thread awaiting only its interruption alive until interrupted (${how})`, async () => {
      const sync = syncArray();
      const thread = start('awaitsOnlyItsInterruption', sync, how);
      await waitFor(sync, 0, 1);
      await idleButAlive(thread);
      thread.interrupt('now');
      assert.equal(await within(thread.join()), undefined);
      assert.equal(thread.state, 'interrupted');
    });
  }

  for (const how of [
    'removeEventListener',
    'onabort = null',
    'once per capture',
    'options.signal',
    'addAbortListener disposed',
    'a listener elsewhere, removed by the signal',
    'after a wait',
  ]) {
    it(`ends a thread as if nothing had listened once its listener is gone (${how})`, async () => {
      const thread = start('stopsListening', how);
      await assert.rejects(within(thread.join()), unsettled);
    });
  }
});

describe('the module a thread is given', () => {
  it('says so when a .ts file sits beside the missing .js', async () => {
    // Without tsx, which maps the .js to the .ts file: as under Node's own type stripping.
    const thread = new Thread(new URL('./fixtures/typed.js', import.meta.url), { execArgv: [] }).start();
    await assert.rejects(within(thread.join()), {
      code: 'ERR_THREAD_MODULE_NOT_FOUND',
      message: /typed\.js, but .*typed\.ts exists.*TypeScript loader.*compile/,
    });
  });
});
