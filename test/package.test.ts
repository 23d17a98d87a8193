import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Bun or Deno, which have no module hooks (asyncInterrupt refuses there); undefined on Node. */
function runtimeWithoutHooks(): string | undefined {
  if (process.versions.bun !== undefined) return 'Bun';
  return (globalThis as { Deno?: unknown }).Deno !== undefined ? 'Deno' : undefined;
}

/**
 * With its optional peers installed in `project`, asyncInterrupt stops a loop that never polls.
 * The peers are the versions this repository installed (its lockfile's), packed from its
 * node_modules and installed from those tarballs, offline: no registry, on any machine (npm ci
 * caches no registry metadata, which an install by name needs).
 */
function assertAsyncInterruptLands(project: string): void {
  const peers = ['acorn', 'magic-string', '@jridgewell/sourcemap-codec'].map((name) => {
    const packed = JSON.parse(
      execFileSync(npm, ['pack', '--json', '--ignore-scripts', join(root, 'node_modules', name)], {
        cwd: project,
        encoding: 'utf8',
        timeout: 120_000,
      }),
    ) as [{ filename: string }];
    return join(project, packed[0].filename);
  });
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', ...peers], {
    cwd: project,
    stdio: 'pipe',
    timeout: 120_000,
  });
  writeFileSync(
    join(project, 'async-main.js'),
    `import { Thread } from 'graceful-threads';
const sync = new Int32Array(new SharedArrayBuffer(4));
const thread = new Thread(new URL('./spin.js', import.meta.url), { args: [sync], asyncInterrupt: true }).start();
Atomics.wait(sync, 0, 0, 20000);
thread.interrupt();
console.log(JSON.stringify({ result: await thread.join(), state: thread.state }));`,
  );
  const spun = execFileSync(process.execPath, ['async-main.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual(JSON.parse(spun), { state: 'interrupted' });
}

describe('the packed tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graceful-threads-pack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs into an empty project and runs a thread there', { timeout: 180_000 }, () => {
    const packed = JSON.parse(
      execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((file) => file.path);
    assert.ok(files.includes('dist/index.d.ts'));
    // One file a thread loads (the package's entry is each thread's), and the half of the package
    // a thread that only polls its flag never uses, loaded on first use (src/lazy.ts), and the
    // rarely run parts of the other half (src/rare.ts), also loaded on first use: every file
    // a thread loads costs it start time, and every byte of code in it memory. And the browser
    // build, one file (the "browser" export condition), and the load hook and transform of
    // asyncInterrupt, which only threads started with it load.
    assert.deepEqual(
      files.filter((file) => file.startsWith('dist/') && file.endsWith('.js')),
      [
        'dist/async-interrupt/hooks.js',
        'dist/async-interrupt/install.js',
        'dist/browser/index.js',
        'dist/heavy.js',
        'dist/index.js',
        'dist/rare.js',
      ],
    );
    for (const bundle of ['dist/heavy.js', 'dist/index.js', 'dist/rare.js', 'dist/browser/index.js']) {
      const code = readFileSync(join(root, bundle), 'utf8');
      const imported = [
        ...code.matchAll(
          /^(?:import|export)\b[^;]*?\bfrom\s*(['"])(.+?)\1|^import\s*(['"])(.+?)\3|\bimport\(\s*(['"])(.+?)\5\s*\)/gm,
        ),
      ].map((match) => match[2] ?? match[4] ?? match[6]);
      // Importing node:fs, node:v8, node:util or node:events costs every thread 0.1-0.8 ms of start
      // and up to 0.7 MiB (Node 24, 26): the runtime adapter fetches them on first use instead.
      assert.deepEqual(
        imported.filter((specifier) => !['node:worker_threads', 'node:path', 'node:url'].includes(specifier!)),
        [],
        `${bundle} imports no other file and no node: module a thread does not need to start`,
      );
      assert.ok(files.includes(`${bundle}.map`), `${bundle} has its source map`);
      // One non-ASCII character (in a comment esbuild keeps) makes V8 hold the whole source as a
      // two-byte string: measured +45-90 KiB of young-generation heap in every thread.
      assert.equal(code.match(/[\u0080-\uffff]/)?.[0], undefined, `${bundle} is ASCII-only`);
    }
    assert.ok(!files.some((file) => file.startsWith('test/')), 'tests are not shipped');

    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
    );
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', join(dir, packed[0]!.filename)], {
      cwd: project,
      stdio: 'pipe',
    });
    writeFileSync(
      join(project, 'worker.js'),
      `import { sleep } from 'graceful-threads';
export default function wait(sync) { Atomics.store(sync, 0, 1); Atomics.notify(sync, 0); sleep(Infinity); }`,
    );
    writeFileSync(
      join(project, 'main.js'),
      `import { Thread } from 'graceful-threads';
const sync = new Int32Array(new SharedArrayBuffer(4));
const thread = new Thread(new URL('./worker.js', import.meta.url), { args: [sync] }).start();
Atomics.wait(sync, 0, 0, 20000);
thread.interrupt();
console.log(JSON.stringify({ result: await thread.join(), state: thread.state }));`,
    );
    const output = execFileSync(process.execPath, ['main.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(JSON.parse(output), { state: 'interrupted' });
    // The waits, from the lazily loaded half, as a user uses them: a lock and a queue handed to a
    // thread, a blocking join, an interrupt that wakes a waiting thread.
    writeFileSync(
      join(project, 'waits-worker.js'),
      `export default function consume(queue, lock, counter) {
  for (const n of queue) Atomics.add(counter, 0, n); // until the queue is closed and drained
  lock.acquire(); // held by the main thread: only the interrupt ends this wait
}`,
    );
    writeFileSync(
      join(project, 'waits-main.js'),
      `import { Lock, Queue, Thread, isThreadInterruptedError } from 'graceful-threads';
const queue = new Queue({ capacity: 4 });
const lock = new Lock();
lock.acquire();
const counter = new Int32Array(new SharedArrayBuffer(4));
const thread = new Thread(new URL('./waits-worker.js', import.meta.url), { args: [queue, lock, counter] }).start();
for (let n = 1; n <= 100; n++) queue.put(n);
queue.close();
while (Atomics.load(counter, 0) !== 5050) await new Promise((resolve) => setTimeout(resolve, 1));
thread.interrupt();
let joined;
try { joined = thread.joinSync(30000); } catch (error) { joined = isThreadInterruptedError(error) ? 'interrupted' : String(error); }
console.log(JSON.stringify({ sum: counter[0], joined: joined ?? null, state: thread.state, instance: queue instanceof Queue }));`,
    );
    const waits = execFileSync(process.execPath, ['waits-main.js'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(waits), { sum: 5050, joined: null, state: 'interrupted', instance: true });
    // The pool, as a piscina user would reach for it: a task cancelled while it computes, whose
    // worker then runs the next task.
    writeFileSync(
      join(project, 'pool-tasks.js'),
      `import { interruptionRequested, currentThread } from 'graceful-threads';
export default function crunch(sync) {
  Atomics.store(sync, 0, 1);
  Atomics.notify(sync, 0);
  while (!interruptionRequested()) {}
  Atomics.store(sync, 1, 1);
  return 'saw it';
}
export function whoAmI() { return currentThread().name; }`,
    );
    writeFileSync(
      join(project, 'pool-main.js'),
      `import { ThreadPool } from 'graceful-threads';
const pool = new ThreadPool(new URL('./pool-tasks.js', import.meta.url), { size: 1, name: 'pool' });
const sync = new Int32Array(new SharedArrayBuffer(8));
const controller = new AbortController();
const cancelled = pool.run(sync, { signal: controller.signal }).catch((error) => error);
while (Atomics.load(sync, 0) !== 1) await new Promise((resolve) => setTimeout(resolve, 1));
controller.abort('enough');
const reason = await cancelled;
const name = await pool.run(undefined, { export: 'whoAmI' });
await pool.close();
console.log(JSON.stringify({ reason, saw: Atomics.load(sync, 1), name, stats: pool.stats }));`,
    );
    const pool = execFileSync(process.execPath, ['pool-main.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(JSON.parse(pool), {
      reason: 'enough',
      saw: 1,
      name: 'pool-1',
      stats: { size: 0, busy: 0, queued: 0, completed: 1, cancelled: 1, replaced: 0 },
    });
    // asyncInterrupt: without its optional peer dependencies, a coded error that says what to
    // install; with them, an interrupt that lands in a loop that never polls.
    writeFileSync(
      join(project, 'spin.js'),
      `export default function spin(sync) { Atomics.store(sync, 0, 1); Atomics.notify(sync, 0); let n = 0; for (;;) n++; }`,
    );
    writeFileSync(
      join(project, 'async-main.js'),
      `import { Thread } from 'graceful-threads';
let thread;
try {
  thread = new Thread(new URL('./spin.js', import.meta.url), { args: [new Int32Array(new SharedArrayBuffer(4))], asyncInterrupt: true });
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
  process.exit(0);
}
console.log(JSON.stringify({ created: thread.name }));
`,
    );
    const missing = JSON.parse(
      execFileSync(process.execPath, ['async-main.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 }),
    ) as { code: string; message: string };
    assert.equal(missing.code, 'ERR_ASYNC_INTERRUPT_UNAVAILABLE');
    // Bun has no module hooks, Deno's do not serve: the same code, saying so, whatever is installed.
    const hookless = runtimeWithoutHooks();
    if (hookless !== undefined) {
      assert.match(missing.message, new RegExp(`module hooks, which ${hookless}('s)? do`));
    } else {
      assert.match(missing.message, /npm install acorn magic-string/);
      assertAsyncInterruptLands(project);
    }
    // Whole-program shutdown: shutdown() on demand, then process.exit() with a thread still
    // sleeping, whose cleanup writes its file before the process ends.
    writeFileSync(
      join(project, 'cleanup.js'),
      `import { writeFileSync } from 'node:fs';
import { sleep } from 'graceful-threads';
export default function cleanup(sync, file) {
  try { Atomics.store(sync, 0, 1); Atomics.notify(sync, 0); sleep(Infinity); }
  finally { writeFileSync(file, 'cleaned up'); }
}`,
    );
    writeFileSync(
      join(project, 'shutdown-main.js'),
      `import { shutdown, Thread } from 'graceful-threads';
const start = (name) => {
  const sync = new Int32Array(new SharedArrayBuffer(4));
  new Thread(new URL('./cleanup.js', import.meta.url), { name, args: [sync, name + '.txt'] }).start();
  Atomics.wait(sync, 0, 0, 20000);
};
start('on-demand');
const report = await shutdown({ graceMs: 10000 });
console.log(JSON.stringify({ ended: report.ended.map((r) => r.name), terminated: report.terminated.length }));
start('on-exit');
process.exit(3);`,
    );
    let exitStatus: number | undefined;
    let shutdownOutput = '';
    try {
      execFileSync(process.execPath, ['shutdown-main.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    } catch (error) {
      exitStatus = (error as { status?: number }).status;
      shutdownOutput = (error as { stdout?: string }).stdout ?? '';
    }
    assert.equal(exitStatus, 3);
    assert.deepEqual(JSON.parse(shutdownOutput), { ended: ['on-demand'], terminated: 0 });
    assert.equal(readFileSync(join(project, 'on-demand.txt'), 'utf8'), 'cleaned up');
    assert.equal(readFileSync(join(project, 'on-exit.txt'), 'utf8'), 'cleaned up');
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/graceful-threads/package.json'), 'utf8'));
    assert.equal(manifest.exports['.'].types, './dist/index.d.ts');
  });
});
