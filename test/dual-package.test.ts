import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Thread } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

describe('two copies of the package in one thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graceful-threads-copy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('share the flag, the critical sections and the error brand', async () => {
    cpSync(new URL('../dist', import.meta.url), join(dir, 'dist'), { recursive: true });
    const copyUrl = pathToFileURL(join(dir, 'dist', 'index.js')).href;
    const sync = syncArray();
    const thread = new Thread(new URL('./fixtures/dual-package.mjs', import.meta.url), {
      args: [sync, copyUrl],
    }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt('both');
    assert.deepEqual(await within(thread.join()), {
      copySeesFlag: true,
      sameName: true,
      deferredAcrossCopies: true,
      recognised: true,
      reason: 'both',
    });
  });

  it('run the target once: only the copy the thread started with runs it', async () => {
    cpSync(new URL('../dist', import.meta.url), join(dir, 'dist-runs'), { recursive: true });
    const copyUrl = pathToFileURL(join(dir, 'dist-runs', 'index.js')).href;
    const runs = syncArray(1);
    const thread = new Thread(new URL('./fixtures/dual-package.mjs', import.meta.url), {
      export: 'countRuns',
      args: [runs, copyUrl],
    }).start();
    await within(thread.join());
    assert.equal(Atomics.load(runs, 0), 1);
  });
});
