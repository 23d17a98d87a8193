// Deno only (scripts/test-runtime.mjs runs test/deno/ there): the packed package, installed into
// a project's node_modules, imported as README's "Deno" section says, with `npm:graceful-threads`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the packed tarball on Deno', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graceful-threads-deno-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is imported as npm:graceful-threads from the project's node_modules, in the main thread and a thread", () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as Array<{ filename: string }>;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'deno-project', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, packed[0]!.filename)], {
      cwd: dir,
      stdio: 'pipe',
    });
    writeFileSync(join(dir, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }));
    writeFileSync(
      join(dir, 'crunch.ts'),
      `import { interruptionRequested } from 'npm:graceful-threads';
export default function crunch(sync: Int32Array, items: number): number {
  Atomics.store(sync, 0, 1);
  Atomics.notify(sync, 0);
  let i = 0;
  while (i < items && !interruptionRequested()) i++;
  return i;
}
`,
    );
    writeFileSync(
      join(dir, 'main.ts'),
      `import { crossThreadNow, Thread } from 'npm:graceful-threads';
import type crunch from './crunch.ts';
const sync = new Int32Array(new SharedArrayBuffer(4));
const thread = new Thread<typeof crunch>(new URL('./crunch.ts', import.meta.url), { args: [sync, 1e15] }).start();
if (Atomics.wait(sync, 0, 0, 60_000) === 'timed-out') throw new Error('the thread did not start');
thread.interrupt('took too long');
const spins = await thread.join();
console.log(JSON.stringify({ finished: thread.state, stoppedEarly: typeof spins === 'number' && spins < 1e15, clock: typeof crossThreadNow() }));
`,
    );
    const output = execFileSync(process.execPath, ['run', '--allow-all', 'main.ts'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(output), { finished: 'finished', stoppedEarly: true, clock: 'number' });
  });
});
