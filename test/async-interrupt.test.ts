import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allowInterruption, enterAllowInterruption, Thread, ThreadPool } from 'graceful-threads';
import { interruptSeqIndex } from '../src/control-block.ts';
import { syncArray, waitFor, within } from './helpers.ts';

const loops = new URL('./fixtures/async-interrupt/loops.mjs', import.meta.url);

/** Starts `name` with asyncInterrupt `mode`, waits for its endless part, interrupts it. */
async function interruptIn(name: string, mode: true | 'regions' = true): Promise<{ thread: Thread; sync: Int32Array }> {
  const sync = syncArray();
  const thread = new Thread(loops, { export: name, args: [sync], asyncInterrupt: mode }).start();
  await reachedOrEnded(thread, sync);
  thread.interrupt('enough');
  return { thread, sync };
}

/** Resolves once the thread set sync[0]; rejects if it ended first (it failed to load, say). */
async function reachedOrEnded(thread: Thread, sync: Int32Array): Promise<void> {
  const ended = thread.join().then(
    () => Promise.reject(new Error(`thread ${thread.name} ended early: ${thread.state}`)),
    (error: unknown) => Promise.reject(error),
  );
  ended.catch(() => {});
  await Promise.race([waitFor(sync, 0, 1), ended]);
}

/** Runs `name` as a task of `pool`, waits for its endless part (or its end), then cancels it. */
async function runThenCancel(pool: ThreadPool, name: string, sync: Int32Array): Promise<void> {
  const controller = new AbortController();
  const task = pool.run(sync, { export: name, signal: controller.signal });
  task.catch(() => {});
  await Promise.race([waitFor(sync, 0, 1), task]);
  controller.abort();
}

/** The thread stopped on the interrupt, running its finally on the way out. */
async function assertStopped(thread: Thread, sync: Int32Array): Promise<void> {
  try {
    assert.equal(await within(thread.join(), 20_000, `thread ${thread.name}`), undefined);
  } finally {
    if (thread.state === 'running') await thread.terminate();
  }
  assert.equal(thread.state, 'interrupted');
  assert.equal(Atomics.load(sync, 1), 1, 'its finally ran');
}

describe('asyncInterrupt: an interrupt lands in code that never polls', () => {
  for (const name of [
    'forLoop',
    'whileLoop',
    'doLoop',
    'forOfLoop',
    'forInLoop',
    'labelled',
    'nested',
    'continuePath',
    'recursion',
    'generator',
    'asyncFunction',
    'classMethods',
    'mapCallback',
  ]) {
    it(`stops ${name}, and its finally runs`, async () => {
      const { thread, sync } = await interruptIn(name);
      await assertStopped(thread, sync);
    });
  }

  it('stops a CommonJS target in a module it required', async () => {
    const sync = syncArray();
    const thread = new Thread(new URL('./fixtures/async-interrupt/spin.cjs', import.meta.url), {
      args: [sync],
      asyncInterrupt: true,
      // Not the test runner's tsx: it compiles the CommonJS modules it loads itself, past Node's hooks.
      execArgv: [],
    }).start();
    await reachedOrEnded(thread, sync);
    thread.interrupt();
    await assertStopped(thread, sync);
  });

  it('a critical section defers it to the section end', async () => {
    const { thread, sync } = await interruptIn('critical');
    await assertStopped(thread, sync);
    assert.equal(Atomics.load(sync, 2), 1, 'the section finished its work after the interrupt');
  });

  it('an abort listener of interruptionSignal() runs to its end, and the interrupt lands after it', async () => {
    const { thread, sync } = await interruptIn('abortListener');
    await assertStopped(thread, sync);
    assert.equal(Atomics.load(sync, 2), 1, 'the listener was not cut short');
  });

  it("in 'regions' mode it lands only inside allowInterruption()", async () => {
    const { thread, sync } = await interruptIn('regions', 'regions');
    await assertStopped(thread, sync);
    assert.equal(Atomics.load(sync, 2), 1, 'the loop outside any region ran to its end');
  });

  it("in 'regions' mode it lands inside an enterAllowInterruption() block", async () => {
    const { thread, sync } = await interruptIn('usingRegion', 'regions');
    await assertStopped(thread, sync);
    assert.equal(Atomics.load(sync, 2), 1);
  });

  it('reaches code in a dependency listed in include, and only then', async () => {
    const dir = mkdtempSync(join(fileURLToPath(new URL('../.tmp/', import.meta.url)), 'async-dep-'));
    try {
      mkdirSync(join(dir, 'node_modules', 'spin-dep'), { recursive: true });
      writeFileSync(
        join(dir, 'node_modules', 'spin-dep', 'package.json'),
        JSON.stringify({ name: 'spin-dep', type: 'module', exports: './index.js' }),
      );
      writeFileSync(
        join(dir, 'node_modules', 'spin-dep', 'index.js'),
        'export function spin(sync) { Atomics.store(sync, 0, 1); let n = 0; for (;;) n++; }\nexport function source() { return String(spin); }\n',
      );
      writeFileSync(
        join(dir, 'main.mjs'),
        "import { spin, source } from 'spin-dep';\nexport function run(sync) { try { spin(sync); } finally { Atomics.store(sync, 1, 1); } }\nexport { source };\n",
      );
      const main = pathToFileURL(join(dir, 'main.mjs'));
      const untouched = new Thread(main, { export: 'source', asyncInterrupt: true }).start();
      assert.equal(
        await within(untouched.join()),
        'function spin(sync) { Atomics.store(sync, 0, 1); let n = 0; for (;;) n++; }',
        'node_modules stays untouched unless listed',
      );
      const sync = syncArray();
      const thread = new Thread(main, {
        export: 'run',
        args: [sync],
        asyncInterrupt: { include: ['spin-dep'] },
      }).start();
      await waitFor(sync, 0, 1);
      thread.interrupt();
      await assertStopped(thread, sync);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pool task cancelled in a loop that never polls stops, and its worker runs the next task, which a cancel stops too', async () => {
    await using pool = new ThreadPool(loops, { size: 1, asyncInterrupt: true, cancelGraceMs: 120_000 });
    const sync = syncArray();
    await runThenCancel(pool, 'forLoop', sync);
    // One worker: the next task runs only once the first has stopped (not replaced: a grace of 2 minutes).
    assert.deepEqual(Object.keys((await within(pool.run(undefined, { export: 'probe' }))) as object).sort(), [
      'globals',
      'parserLoaded',
      'source',
    ]);
    assert.equal(pool.stats.replaced, 0);
    assert.equal(Atomics.load(sync, 1), 1);
    // The same worker's next cancelled task is stopped too: the first task's throw is not remembered.
    const again = syncArray();
    await runThenCancel(pool, 'forLoop', again);
    assert.deepEqual(Object.keys((await within(pool.run(undefined, { export: 'probe' }))) as object).length, 3);
    assert.equal(pool.stats.replaced, 0);
    assert.equal(Atomics.load(again, 1), 1);
  });

  it("a cancelled pool task's leftover timer runs to its end on the idle worker: one throw per interrupt", async () => {
    await using pool = new ThreadPool(loops, { size: 1, asyncInterrupt: true, cancelGraceMs: 120_000 });
    const sync = syncArray();
    await runThenCancel(pool, 'leavesTimer', sync);
    // Nothing else is sent: the worker stays idle with its flag set while the timer runs.
    await waitFor(sync, 3, 1);
    assert.equal(pool.stats.replaced, 0);
    assert.equal(Object.keys((await within(pool.run(undefined, { export: 'probe' }))) as object).length, 3);
    assert.equal(pool.stats.replaced, 0);
  });
});

describe('asyncInterrupt: what the thread sees', () => {
  it('throws once per interrupt, even when a racing interrupter bumps its sequence number late; again after clearInterrupt()', async () => {
    const sync = syncArray();
    const seq = [interruptSeqIndex(0), interruptSeqIndex(1) - interruptSeqIndex(0)];
    const thread = new Thread(loops, { export: 'lateSequenceBump', args: [sync, seq], asyncInterrupt: true }).start();
    try {
      await reachedOrEnded(thread, sync);
      thread.interrupt('first');
      await waitFor(sync, 2, 1);
      thread.interrupt('second');
      assert.deepEqual(await within(thread.join(), 20_000, 'the thread'), [
        'ThreadInterruptedError',
        'no second throw',
        'ThreadInterruptedError',
      ]);
    } finally {
      if (thread.state === 'running') await thread.terminate();
    }
  });

  it('a thread without the option loads no transform: no globals, its source as written, no parser', async () => {
    const result = (await within(new Thread(loops, { export: 'probe' }).start().join())) as {
      globals: boolean;
      source: string;
      parserLoaded: boolean;
    };
    assert.equal(result.globals, false);
    assert.equal(result.parserLoaded, false);
    assert.doesNotMatch(result.source, /__graceful_flag\[0\]/);
  });

  it('an opted-in thread runs instrumented code', async () => {
    const result = (await within(new Thread(loops, { export: 'probe', asyncInterrupt: true }).start().join())) as {
      globals: boolean;
      source: string;
    };
    assert.equal(result.globals, true);
    assert.match(result.source, /__graceful_flag\[0\]&1&&__graceful_trap\(\)/);
  });

  it('keeps instrumented modules in a cache keyed by their content, read by the next thread', async () => {
    const dir = mkdtempSync(join(fileURLToPath(new URL('../.tmp/', import.meta.url)), 'async-cache-'));
    const marker = `cache-probe-${process.pid}-${Date.now()}`;
    const file = join(dir, 'probe.mjs');
    writeFileSync(
      file,
      `export default function probe(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return '${marker}'; }\n`,
    );
    const cacheDir = join(tmpdir(), `graceful-threads-${process.getuid?.() ?? 'user'}`, 'async-interrupt');
    const run = (cache: boolean) =>
      within(new Thread(pathToFileURL(file), { args: [10], asyncInterrupt: { cache } }).start().join());
    try {
      assert.equal(await run(true), marker);
      const entries = readdirSync(cacheDir).filter((name) =>
        readFileSync(join(cacheDir, name), 'utf8').includes(marker),
      );
      assert.equal(entries.length, 1, 'one entry for the module');
      const entry = join(cacheDir, entries[0]!);
      assert.match(readFileSync(entry, 'utf8'), /__graceful_flag\[0\]/);
      // What the next thread runs comes from the entry (edited here to tell, keeping its length,
      // which the entry records), not from the parser.
      const edited = 'from the cache'.padEnd(marker.length, '.');
      writeFileSync(entry, readFileSync(entry, 'utf8').replace(marker, edited));
      assert.equal(await run(true), edited);
      assert.equal(await run(false), marker, 'cache: false neither reads it');
      rmSync(entry);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stack traces point at the line and column of the source as written', async () => {
    const lines = readFileSync(loops, 'utf8').split('\n');
    const line = lines.findIndex((text) => text.includes("new Error('here')"));
    const column = lines[line]!.indexOf("new Error('here')") + 1;
    const result = (await within(new Thread(loops, { export: 'stackHere', asyncInterrupt: true }).start().join())) as {
      stack: string;
    };
    assert.match(result.stack, new RegExp(`loops\\.mjs:${line + 1}:${column}\\b`));
  });

  it("a syntax error in the thread's module or one it imports names the file and line: Node's own error, marked", async () => {
    // Node's error for a module that does not parse names no file (a plain thread's neither):
    // the transform's parser found the place, and it is put above the stack as Node marks an
    // uncaught one. Written here: the linter would refuse these files as fixtures.
    const dir = mkdtempSync(join(fileURLToPath(new URL('../.tmp/', import.meta.url)), 'async-syntax-'));
    const broken = join(dir, 'bad-syntax.mjs');
    const importer = join(dir, 'imports-bad.mjs');
    writeFileSync(broken, 'export default function broken() {\n  let x = 1;\n  x = = 2;\n  return x;\n}\n');
    writeFileSync(importer, "import broken from './bad-syntax.mjs';\nexport default () => broken();\n");
    const failure = async (file: string, asyncInterrupt: boolean): Promise<Error> => {
      const thread = new Thread(pathToFileURL(file), { asyncInterrupt }).start();
      return (await within(thread.join()).then(
        () => assert.fail('the thread should fail'),
        (e: unknown) => e,
      )) as Error;
    };
    const [plain, direct, imported] = await Promise.all([
      failure(broken, false),
      failure(broken, true),
      failure(importer, true),
    ]).finally(() => rmSync(dir, { recursive: true, force: true }));
    const mark = `${pathToFileURL(broken).href}:3\n  x = = 2;\n      ^\n\n`;
    for (const instrumented of [direct, imported]) {
      assert.equal(instrumented.name, 'SyntaxError');
      assert.equal(instrumented.message, plain.message);
      // Then Node's own stack, whose loader frames differ with the import path.
      assert.ok(String(instrumented.stack).startsWith(mark + String(plain.stack).split('\n')[0]), instrumented.stack);
    }
    assert.doesNotMatch(String(plain.stack), /bad-syntax/);
  });

  it('a SyntaxError the thread dies of is not marked with a module whose failure to load it caught', async () => {
    // The parser noted bad-syntax.mjs; the thread then fails of another SyntaxError: one its
    // module's code throws as it runs, or Node's for an export that is not there.
    const dir = mkdtempSync(join(fileURLToPath(new URL('../.tmp/', import.meta.url)), 'async-syntax-'));
    writeFileSync(join(dir, 'bad-syntax.mjs'), 'export default function broken() {\n  x = = 2;\n}\n');
    writeFileSync(join(dir, 'ok.mjs'), 'export const yes = 1;\n');
    const optional = "try {\n  await import('./bad-syntax.mjs');\n} catch {}\n";
    writeFileSync(join(dir, 'runtime.mjs'), `${optional}JSON.parse('{');\nexport default () => 1;\n`);
    writeFileSync(
      join(dir, 'missing.mjs'),
      `${optional}await import('./imports-missing.mjs');\nexport default () => 1;\n`,
    );
    writeFileSync(join(dir, 'imports-missing.mjs'), "import { nope } from './ok.mjs';\nexport default nope;\n");
    const failure = async (file: string, asyncInterrupt: boolean): Promise<Error> => {
      const thread = new Thread(pathToFileURL(join(dir, file)), { asyncInterrupt }).start();
      return (await within(thread.join()).then(
        () => assert.fail('the thread should fail'),
        (e: unknown) => e,
      )) as Error;
    };
    const failures = await Promise.all(
      ['runtime.mjs', 'missing.mjs'].flatMap((file) => [failure(file, false), failure(file, true)]),
    ).finally(() => rmSync(dir, { recursive: true, force: true }));
    for (let i = 0; i < failures.length; i += 2) {
      const [plain, instrumented] = [failures[i]!, failures[i + 1]!];
      assert.equal(instrumented.name, 'SyntaxError');
      assert.doesNotMatch(String(instrumented.stack), /bad-syntax/);
      // As a plain thread's, up to the first frame (the loader's frames differ with the hooks).
      const head = (error: Error) => String(error.stack).split('\n    at ')[0];
      assert.equal(head(instrumented), head(plain));
    }
  });

  it('allowInterruption() and enterAllowInterruption() run their code in any thread', async () => {
    assert.equal(
      allowInterruption(() => 42),
      42,
    );
    assert.equal(await allowInterruption(async () => 43), 43);
    {
      using region = enterAllowInterruption();
      assert.equal(typeof region[Symbol.dispose], 'function');
    }
    assert.throws(() => allowInterruption(42 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('rejects a bad option with a coded TypeError', () => {
    assert.throws(() => new Thread(loops, { asyncInterrupt: 'sometimes' as never }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => new Thread(loops, { asyncInterrupt: { mode: 'always' as never } }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => new Thread(loops, { asyncInterrupt: { include: ['not a name'] } }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => new ThreadPool(loops, { asyncInterrupt: { cache: 'yes' as never } }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });
});
