/**
 * shutdown() on demand, configureShutdown() and the report of failures nobody joined: in this
 * process with real threads, and in child processes where the process's exit is the subject.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { configureShutdown, shutdown, Thread, ThreadPool } from 'graceful-threads';
import { END_COUNTER_INDEX, isInterruptRequested, liveSlots } from '../src/control-block.ts';
import { SHUTDOWN_SIGNALS, signalExitCode } from '../src/runtime/node-process.ts';
import { rehearseShutdown } from '../src/shutdown/shutdown.ts';
import { state } from '../src/thread-state.ts';
import { liveThreadCount, syncArray, waitFor, within } from './helpers.ts';

const targets = new URL('./fixtures/shutdown-targets.mjs', import.meta.url);

function start(exportName: string, sync: Int32Array, name: string, ...extra: unknown[]): Thread {
  return new Thread(targets, { export: exportName, name, args: [sync, ...extra] }).start();
}

describe('shutdown()', () => {
  it('interrupts every thread at once (nested ones too), waits for them, reports each, and finds nobody the second time', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-shutdown-api-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sync = syncArray();
    const threads = [
      start('syncCleanup', sync, 'sync-one', join(dir, 'a')),
      start('asyncCleanup', sync, 'async-one', join(dir, 'b')),
      start('nested', sync, 'parent-one', join(dir, 'c')),
    ];
    await waitFor(sync, 0, 4);
    const report = await within(shutdown({ graceMs: 30_000 }));
    assert.deepEqual(report.terminated, []);
    assert.deepEqual(report.ended.map((r) => r.name).sort(), ['async-one', 'nested-child', 'parent-one', 'sync-one']);
    for (const thread of threads) {
      const record = report.ended.find((r) => r.name === thread.name);
      assert.equal(record?.threadId, thread.threadId);
      assert.ok(record.ms >= 0 && record.ms <= report.ms);
      assert.equal(thread.state, 'interrupted', 'its handle has settled when shutdown() resolves');
    }
    for (const file of ['a', 'b', 'c', 'c.child']) assert.equal(readFileSync(join(dir, file)).length, 4 << 20);
    assert.equal(liveThreadCount(), 0);
    const again = await shutdown();
    assert.deepEqual([again.ended, again.terminated], [[], []]);
  });

  it('lets a thread whose target returned run what its event loop still holds: only a shutdown the process exits after cuts it', async (t) => {
    // shutdown() does not exit the process: the group is not 'exiting', so a thread whose
    // cleanup did not await its write ends once its event loop empties, the write done.
    const dir = mkdtempSync(join(tmpdir(), 'gt-shutdown-api-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sync = syncArray();
    const thread = start('unawaitedCleanup', sync, 'unawaited', join(dir, 'u'));
    await waitFor(sync, 0, 1);
    const report = await within(shutdown({ graceMs: 30_000 }));
    assert.deepEqual(report.terminated, []);
    assert.deepEqual(
      report.ended.map((r) => r.name),
      ['unawaited'],
    );
    assert.equal(thread.state, 'interrupted');
    assert.equal(readFileSync(join(dir, 'u')).length, 4 << 20, 'the write its cleanup did not await was done');
  });

  it("rehearsal (what a signal's shutdown runs, compiled ahead of it) interrupts, counts and keeps nothing of the program's", async () => {
    const sync = syncArray();
    const thread = start('returnReason', sync, 'rehearsed');
    await waitFor(sync, 0, 1);
    const registry = state.registry!;
    const slots = [...liveSlots(registry)];
    const ends = Atomics.load(registry.words, END_COUNTER_INDEX);
    rehearseShutdown();
    assert.deepEqual([...liveSlots(registry)], slots);
    for (const slot of slots) assert.equal(isInterruptRequested(registry, slot), false);
    assert.equal(Atomics.load(registry.words, END_COUNTER_INDEX), ends, 'no end counted');
    assert.equal(thread.state, 'running');
    const report = await within(shutdown({ reason: 'after the rehearsal' }));
    assert.deepEqual(
      report.ended.map((record) => record.name),
      ['rehearsed'],
    );
    assert.equal(await thread.join(), 'after the rehearsal');
  });

  it("rehearsal leaves a program's pools open: a pool made first still runs tasks after it (the package's build, in a program of its own)", async () => {
    // In a child process, as a program runs the package: the rehearsal comes a turn after the
    // first thread starts, which there is the pool's worker.
    const program = new URL('./fixtures/pool-after-rehearsal.mjs', import.meta.url);
    const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(program)], { timeout: 60_000 });
    assert.equal(stdout, '1\n2\n');
  });

  it("rehearsal reads no stdio stream of the program's (reading one makes it)", async () => {
    const program = new URL('./fixtures/rehearsal-stdio.mjs', import.meta.url);
    const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(program)], { timeout: 60_000 });
    assert.equal(stdout, '0\n', 'reads of process.stdout and process.stderr in the main thread');
  });

  it("delivers its reason to each thread's ThreadInterruptedError", async () => {
    const sync = syncArray();
    const thread = start('returnReason', sync, 'reasoned');
    await waitFor(sync, 0, 1);
    await within(shutdown({ reason: { why: 'deploy' } }));
    assert.deepEqual(await thread.join(), { why: 'deploy' });
  });

  it('terminates what ignores it after graceMs, saying where it was stuck and why', async () => {
    const sync = syncArray();
    const stuck = start('spinInCriticalSection', sync, 'spinner');
    const ignorer = start('ignoreInterrupt', sync, 'ignorer');
    const idler = start('idleForEver', sync, 'idler');
    await waitFor(sync, 0, 3);
    const report = await within(shutdown({ graceMs: 300 }));
    assert.deepEqual(report.ended, []);
    const [spinner, ignoring, idling] = ['spinner', 'ignorer', 'idler'].map((name) =>
      report.terminated.find((r) => r.name === name),
    );
    assert.ok(spinner && ignoring && idling, JSON.stringify(report));
    assert.equal(spinner.threadId, stuck.threadId);
    assert.equal(spinner.inCriticalSection, true);
    assert.equal(spinner.checkedSinceInterrupt, false);
    assert.match(spinner.stack, /^ {4}at spinForEver \(file:.*shutdown-targets\.mjs:\d+:\d+\)$/m);
    assert.equal(ignoring.threadId, ignorer.threadId);
    assert.equal(ignoring.inCriticalSection, false);
    assert.equal(ignoring.checkedSinceInterrupt, true);
    assert.match(ignoring.stack, /at ignoreInterrupt \(/);
    assert.equal(idling.threadId, idler.threadId);
    assert.equal(idling.stack, '(idle: no JavaScript running; waiting in its event loop)');
    assert.ok(spinner.ms >= 300, `${spinner.ms}`);
    await assert.rejects(stuck.join(), { code: 'ERR_THREAD_TERMINATED' });
    await assert.rejects(ignorer.join(), { code: 'ERR_THREAD_TERMINATED' });
    await assert.rejects(idler.join(), { code: 'ERR_THREAD_TERMINATED' });
    assert.equal(liveThreadCount(), 0);
  });

  it("terminates a pool's worker whose task ignores the interrupt, and closes the pool", async () => {
    const sync = syncArray();
    const pool = new ThreadPool(new URL('./fixtures/pool-tasks.mjs', import.meta.url), {
      size: 1,
      name: 'stubborn-pool',
      cancelGraceMs: 600_000,
    });
    const task = pool.run({ sync }, { export: 'ignoreInterrupt' });
    task.catch(() => {});
    await waitFor(sync, 0, 1);
    const report = await within(shutdown({ graceMs: 300 }));
    assert.equal(report.terminated.length, 1, JSON.stringify(report));
    assert.match(report.terminated[0]!.name, /^stubborn-pool-/);
    assert.match(report.terminated[0]!.stack, /at ignoreInterrupt \(/);
    await assert.rejects(task, { code: 'ERR_POOL_CLOSED' });
    await assert.rejects(pool.run({ sync }), { code: 'ERR_POOL_CLOSED' });
    assert.equal(liveThreadCount(), 0);
  });

  it('rejects bad options, and runs only in the thread that started the group', async () => {
    await assert.rejects(shutdown({ graceMs: -1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(shutdown({ graceMs: '1' as never }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(shutdown('now' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    const thread = new Thread(targets, { export: 'callShutdownInThread' }).start();
    assert.deepEqual(await within(thread.join()), ['ERR_SHUTDOWN_FROM_THREAD', 'ERR_SHUTDOWN_FROM_THREAD']);
  });
});

describe("a signal's exit code", () => {
  it("is 128 + the signal's number on this system, for every signal a shutdown takes (the common ones without node:os)", () => {
    const numbers = constants.signals as Record<string, number | undefined>;
    for (const signal of SHUTDOWN_SIGNALS) assert.equal(signalExitCode(signal), 128 + (numbers[signal] ?? 0), signal);
    assert.deepEqual(
      ['SIGINT', 'SIGTERM', 'SIGHUP'].map((signal) => signalExitCode(signal as 'SIGINT')),
      [130, 143, 129],
    );
  });
});

describe('configureShutdown()', () => {
  it('rejects bad settings with a clear error', () => {
    const cases: [unknown, string, string][] = [
      [null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ signals: 'SIGINT' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ signals: ['SIGKILL'] }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
      [{ signals: ['SIGINT', 'INT'] }, 'TypeError', 'ERR_INVALID_ARG_VALUE'],
      [{ graceMs: -5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ graceMs: Number.NaN }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ onExit: 'yes' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ onUncaught: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ report: 'stderr' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [config, name, code] of cases) {
      assert.throws(() => configureShutdown(config as never), { name, code }, JSON.stringify(config));
    }
    assert.throws(() => configureShutdown({ signals: ['SIGKILL' as never] }), /SIGINT, SIGTERM, SIGHUP/);
  });
});

const unobserved = new URL('./fixtures/unobserved-program.mjs', import.meta.url).pathname;
const run = (args: string[], execArgv: string[] = [], env: NodeJS.ProcessEnv = process.env) =>
  promisify(execFile)(process.execPath, [...execArgv, unobserved, ...args], { timeout: 60_000, env });
const prepareStackTrace = new URL('./fixtures/prepare-stack-trace.mjs', import.meta.url).pathname;
/** run() with the program's own Error.prepareStackTrace in its main thread (see the fixture). */
const runWithStackFormat = (kind: 'layout' | 'throws', args: string[]) =>
  run(args, ['--import', prepareStackTrace], { ...process.env, GT_PREPARE_STACK_TRACE: kind });

describe('failures nobody joins', () => {
  it('are written to stderr with the thread name and the stack when the program ends', async () => {
    const { stderr } = await run(['never-joined']);
    assert.match(
      stderr,
      /^Exception in thread "lost-one" \(thread \d+\), which nobody joined:\nTypeError: failure of lost-one\n {4}at fail \(/m,
    );
  });

  it('are not reported when join() saw them', async () => {
    const { stdout, stderr } = await run(['joined']);
    assert.equal(stdout, 'join saw: failure of joined-one\n');
    assert.equal(stderr, '');
  });

  it('go to setThreadErrorHandler() instead, once', async () => {
    const { stdout, stderr } = await run(['handler']);
    assert.match(stdout, /^handler: handled-one \d+ failure of handled-one\n$/);
    assert.equal(stderr, '');
  });

  it('are reported when the dropped handle is collected, while the program runs on', async () => {
    const { stdout } = await run(['collected'], ['--expose-gc']);
    assert.equal(stdout, 'collected: dropped-one failure of dropped-one\nstill running; collected: true\n');
  });

  it('the natural end of the main script changes nothing: an unreferenced thread is not waited for', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-natural-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await run(['natural-end-unref', join(dir, 'file')]);
    assert.equal(stdout, 'main ends\n');
    assert.throws(() => readFileSync(join(dir, 'file')), { code: 'ENOENT' });
  });

  it('nor does an uncaught error that a capture callback handled earlier make it an uncaught end', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-natural-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { stdout, stderr } = await run(['captured-then-natural-end-unref', join(dir, 'file')]);
    assert.equal(stdout, 'captured\nmain ends\n');
    assert.equal(stderr, '');
    assert.throws(() => readFileSync(join(dir, 'file')), { code: 'ENOENT' });
  });

  it("but process.exit() in a late 'beforeExit' listener is an exit: the unreferenced thread cleans up first", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-natural-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'file');
    const failure = await run(['exit-in-before-exit-unref', file]).then(
      () => assert.fail('the program should exit with 4'),
      (e: { code?: unknown; stdout?: string }) => e,
    );
    assert.equal(failure.code, 4);
    // What the thread prints in its cleanup may not reach stdout: the main thread blocks in
    // its 'exit' listener meanwhile. The file is the proof.
    assert.match(String(failure.stdout), /^main ends\n/);
    const written = readFileSync(file);
    assert.equal(written.length, 4 << 20); // shutdown-targets.mjs's FILE_BYTES: all of it
    assert.equal(written.subarray(-3).toString(), 'END');
  });

  it("process.exit() in a late 'beforeExit' listener is an exit whatever the program's Error.prepareStackTrace", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-natural-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'file');
    const failure = await runWithStackFormat('layout', ['exit-in-before-exit-unref', file]).then(
      () => assert.fail('the program should exit with 4'),
      (e: { code?: unknown }) => e,
    );
    assert.equal(failure.code, 4);
    assert.equal(readFileSync(file).length, 4 << 20);
  });

  it('a prepareStackTrace of the program that throws does not break its natural end: the report is written', async () => {
    // Exits 0 (execFile rejects otherwise); the thread's error itself is formatted by that
    // prepareStackTrace, which is the program's business, so only the report's head is checked.
    const { stderr } = await runWithStackFormat('throws', ['never-joined']);
    assert.match(stderr, /^Exception in thread "lost-one" \(thread \d+\), which nobody joined:\n/);
    assert.doesNotMatch(stderr, /this prepareStackTrace throws/);
  });
});
