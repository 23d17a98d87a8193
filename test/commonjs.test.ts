// CommonJS users: require('graceful-threads') loads this ESM package through Node's require(esm),
// unflagged on every Node that package.json's engines allows (^20.19.0 || >=22.12.0). It breaks
// the moment a module of the package's graph uses top-level await (ERR_REQUIRE_ASYNC_MODULE).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('require() from CommonJS', () => {
  const project = mkdtempSync(join(tmpdir(), 'graceful-threads-cjs-'));
  after(() => rmSync(project, { recursive: true, force: true }));

  it('requires the built package by name and runs a thread whose target is CommonJS too', async () => {
    // The package as installed: its package.json, exports map and dist.
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'graceful-threads'), 'junction');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cjs-project', private: true }));
    writeFileSync(
      join(project, 'worker.cjs'),
      `const { sleep, currentThread } = require('graceful-threads');
module.exports = function wait(sync) {
  Atomics.store(sync, 0, 1);
  Atomics.notify(sync, 0);
  try {
    sleep(Infinity);
  } finally {
    Atomics.store(sync, 1, 1);
  }
};`,
    );
    writeFileSync(
      join(project, 'main.cjs'),
      `const { Thread, ThreadInterruptedError } = require('graceful-threads');
const sync = new Int32Array(new SharedArrayBuffer(8));
const thread = new Thread(require('node:path').join(__dirname, 'worker.cjs'), { args: [sync] }).start();
if (Atomics.wait(sync, 0, 0, 20000) === 'timed-out') throw new Error('the thread did not start');
thread.interrupt('from CommonJS');
thread.join().then((result) => {
  console.log(JSON.stringify({
    result: result === undefined ? 'undefined' : result,
    state: thread.state,
    finallyRan: Atomics.load(sync, 1) === 1,
    errorClass: typeof ThreadInterruptedError,
  }));
});`,
    );
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['main.cjs'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.doesNotMatch(stderr, /ExperimentalWarning|ERR_REQUIRE/);
    assert.deepEqual(JSON.parse(stdout), {
      result: 'undefined',
      state: 'interrupted',
      finallyRan: true,
      errorClass: 'function',
    });
  });
});
