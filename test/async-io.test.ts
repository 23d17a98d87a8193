// Real async I/O in a real thread, interrupted while pending: each operation given the thread's
// interruptionSignal() (or awaited through interruptible()) must reject promptly and free what it
// held: a socket the server sees close, a child process gone, a file descriptor closed, a timer
// cleared. Where Node cannot free it at once (a read blocked in libuv's pool), the test says so.
// Linux: FIFOs come from mkfifo, open descriptors are read from /proc/self/fd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  clearInterrupt,
  criticalSection,
  currentThread,
  interruptible,
  interruptionSignal,
  Thread,
  ThreadInterruptedError,
} from 'graceful-threads';
import { idleButAlive, syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/async-io.mjs', import.meta.url);

// Generous: the operations never settle by themselves, so any rejection is the interrupt's doing;
// the bound only catches one that lands much later than it should on this shared machine.
const PROMPT_MS = 5_000;

let dir: string;
let largeFile: string;
let fifoCount = 0;
const children: number[] = [];

// A server that never answers, and one that accepts connections and never sends.
let httpServer: HttpServer;
let httpUrl: string;
let netServer: NetServer;
let netPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'graceful-threads-async-io-'));
  largeFile = join(dir, 'large.bin');
  // 32 MiB: readFile takes 64 chunks of it, looking at the signal between them.
  writeFileSync(largeFile, Buffer.alloc(32 * 1024 * 1024));
  httpServer = createHttpServer(() => {}).listen(0, '127.0.0.1');
  netServer = createNetServer(() => {}).listen(0, '127.0.0.1');
  await Promise.all([once(httpServer, 'listening'), once(netServer, 'listening')]);
  httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`;
  netPort = (netServer.address() as AddressInfo).port;
});

after(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL'); // only if a test failed and left it running
    } catch {}
  }
  httpServer.closeAllConnections();
  httpServer.close();
  netServer.close();
  rmSync(dir, { recursive: true, force: true });
});

function makeFifo(): string {
  const path = join(dir, `fifo-${++fifoCount}`);
  execFileSync('mkfifo', [path]);
  return path;
}

/** Epoch milliseconds, comparable with the thread's (each thread has its own timeOrigin). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function set(sync: Int32Array, index: number, value = 1): void {
  Atomics.store(sync, index, value);
  Atomics.notify(sync, index);
}

function assertPrompt(t: TestContext, interruptedAt: number, rejectedAt: unknown): void {
  assert.equal(typeof rejectedAt, 'number', 'the operation rejected');
  const latency = (rejectedAt as number) - interruptedAt;
  t.diagnostic(`interrupt → rejection: ${latency.toFixed(2)} ms`);
  assert.ok(latency > -1 && latency < PROMPT_MS, `rejected ${latency} ms after the interrupt`);
}

/** An AbortError from a Node API whose cause is the thread's interruption, with its reason. */
function abortedBy(reason: string): Record<string, unknown> {
  return { name: 'AbortError', code: 'ABORT_ERR', causeIsInterruption: true, reason };
}

/** Starts `exportName` and resolves once sync[0] === phase (the operation is pending). */
async function startPending(exportName: string, args: unknown[], sync: Int32Array): Promise<Thread> {
  const thread = new Thread(fixture, { export: exportName, args: [sync, ...args] }).start();
  await waitFor(sync, 0, 1);
  return thread;
}

describe('async I/O given interruptionSignal(), interrupted while pending in a thread', () => {
  it("fetch rejects with the ThreadInterruptedError, and the server sees the request's socket close", async (t) => {
    const sync = syncArray();
    const request = once(httpServer, 'request') as Promise<[IncomingMessage]>;
    const thread = await startPending('fetchNeverAnswered', [httpUrl], sync);
    const [incoming] = await within(request, 20_000, 'the request');
    // Not events.once(), which rejects on an 'error' first: Bun's fetch drops an aborted request's
    // connection with a reset (ECONNRESET at the server), and Deno's node:http server emits an
    // ECONNRESET 'error' on the request's socket when its client closes. The socket closes either way.
    const closed = new Promise((resolve) => incoming.socket.once('close', resolve));
    const interruptedAt = now();
    thread.interrupt('stop fetch');
    // The thread is still running (it waits for sync[1]): the interruption closed the socket.
    await within(closed, 20_000, "the request's socket closing");
    set(sync, 1);
    const result = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(
      { name: result.name, code: result.code, reason: result.reason },
      { name: 'ThreadInterruptedError', code: 'ERR_THREAD_INTERRUPTED', reason: 'stop fetch' },
    );
    assertPrompt(t, interruptedAt, result.rejectedAt);
  });

  it('net: a socket waiting for data is destroyed, and the server sees it close', async (t) => {
    const sync = syncArray();
    const connection = once(netServer, 'connection') as Promise<[Socket]>;
    const thread = await startPending('socketWaitingForData', [netPort], sync);
    const [serverSide] = await within(connection, 20_000, 'the connection');
    const closed = once(serverSide, 'close');
    const interruptedAt = now();
    thread.interrupt('stop net');
    await within(closed, 20_000, 'the socket closing');
    set(sync, 1);
    const { rejectedAt, destroyed, ...rejection } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rejection, abortedBy('stop net'));
    assert.equal(destroyed, true);
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('stream/promises pipeline from a socket into a file destroys both; the socket and the fd close', async (t) => {
    const sync = syncArray();
    const path = join(dir, 'pipeline-out.bin');
    const connection = once(netServer, 'connection') as Promise<[Socket]>;
    const thread = await startPending('pipelineSocketToFile', [netPort, path], sync);
    const [serverSide] = await within(connection, 20_000, 'the connection');
    const closed = once(serverSide, 'close');
    const interruptedAt = now();
    thread.interrupt('stop pipeline');
    await within(closed, 20_000, 'the socket closing');
    set(sync, 1);
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, {
      ...abortedBy('stop pipeline'),
      socketDestroyed: true,
      fileClosed: true,
      fileFdOpen: false,
    });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('child_process.spawn kills the child: it is gone once the thread has seen it exit', async (t) => {
    const sync = syncArray();
    const thread = await startPending('spawnForever', [], sync);
    const pid = Atomics.load(sync, 1);
    children.push(pid);
    process.kill(pid, 0); // alive: does not throw
    const interruptedAt = now();
    thread.interrupt('stop child');
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, {
      ...abortedBy('stop child'),
      killedAtRejection: true,
      exitCode: null,
      signalCode: 'SIGTERM',
    });
    // 'exit' is emitted once libuv has reaped the child: no such process any more.
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('readline/promises question() rejects and closes the interface; its socket, given the signal too, closes', async (t) => {
    const sync = syncArray();
    const connection = once(netServer, 'connection') as Promise<[Socket]>;
    const thread = await startPending('questionOnSocket', [netPort], sync);
    const [serverSide] = await within(connection, 20_000, 'the connection');
    const closed = once(serverSide, 'close');
    const interruptedAt = now();
    thread.interrupt('stop question');
    await within(closed, 20_000, 'the socket closing');
    set(sync, 1);
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, {
      ...abortedBy('stop question'),
      listeningWhilePending: 1,
      closed: true,
      listening: 0,
      socketDestroyed: true,
    });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('for await over readline lines ends quietly on the interrupt: only a check after the loop throws', async (t) => {
    const sync = syncArray();
    const thread = await startPending('linesOfSocket', [netPort], sync);
    const interruptedAt = now();
    thread.interrupt('stop lines');
    const { endedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, { lines: [], checkThrew: true, closed: true, socketDestroyed: true });
    assertPrompt(t, interruptedAt, endedAt);
  });

  it('timers/promises setTimeout rejects and clears its timer', async (t) => {
    const sync = syncArray();
    const thread = await startPending('timerLong', [], sync);
    const interruptedAt = now();
    thread.interrupt('stop timer');
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, { ...abortedBy('stop timer'), timerWhilePending: true, timersLeft: 0 });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('events.once rejects and removes its listener', async (t) => {
    const sync = syncArray();
    const thread = await startPending('onceNever', [], sync);
    const interruptedAt = now();
    thread.interrupt('stop once');
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, { ...abortedBy('stop once'), listening: 1, listeningAfter: 0 });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('fs/promises readFile of a large file stops between chunks and closes its fd', async (t) => {
    const sync = syncArray();
    const thread = await startPending('readFileLarge', [largeFile], sync);
    const interruptedAt = now();
    thread.interrupt('stop readFile');
    set(sync, 1); // the thread blocked right after starting the read: let it go on
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, { ...abortedBy('stop readFile'), fdsOpen: 0 });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('fs.createReadStream of a file that never ends (/dev/zero) is destroyed and closes its fd', async (t) => {
    const sync = syncArray();
    const thread = await startPending('readStreamEndless', [], sync);
    const interruptedAt = now();
    thread.interrupt('stop stream');
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, { ...abortedBy('stop stream'), destroyed: true, fd: null, fdsOpen: 0 });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('fs.createReadStream of a silent FIFO: the wait ends at once, the fd closes only when the blocked read returns', async (t) => {
    const fifo = makeFifo();
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'fifoReadStream', args: [sync, fifo] }).start();
    // Opening a FIFO waits for the other end: this open and the thread's complete each other.
    const writer = await within(open(fifo, 'w'), 20_000, "opening the FIFO's writer");
    let interruptedAt: number;
    try {
      await waitFor(sync, 0, 1);
      interruptedAt = now();
      thread.interrupt('stop fifo');
      await waitFor(sync, 2, 1); // the wait has rejected; the read is still blocked on the pipe
    } finally {
      await writer.close(); // end-of-file: the blocked read returns, and the stream closes its fd
    }
    const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
    assert.deepEqual(rest, {
      ...abortedBy('stop fifo'),
      atRejection: { destroyed: true, fdOpen: true },
      afterWriterClosed: { closed: true, fdOpen: false },
    });
    assertPrompt(t, interruptedAt, rejectedAt);
  });

  it('a FIFO opened non-blocking and read through a net.Socket is destroyed and closes its fd at once', async (t) => {
    const fifo = makeFifo();
    const sync = syncArray();
    const thread = await startPending('fifoSocket', [fifo], sync);
    const writer = await within(open(fifo, 'w'), 20_000, "opening the FIFO's writer");
    try {
      set(sync, 1);
      await waitFor(sync, 0, 2);
      const interruptedAt = now();
      thread.interrupt('stop fifo socket');
      // The writer stays open until the thread has ended: the abort alone closed the reader.
      const { rejectedAt, ...rest } = (await within(thread.join())) as Record<string, unknown>;
      assert.deepEqual(rest, { ...abortedBy('stop fifo socket'), destroyed: true, fdOpen: false });
      assertPrompt(t, interruptedAt, rejectedAt);
    } finally {
      await writer.close();
    }
  });
});

describe('interruptible()', () => {
  it('settles as the promise does when the thread is not interrupted', async () => {
    assert.equal(await interruptible(Promise.resolve('value')), 'value');
    const failure = new Error('failed');
    await assert.rejects(interruptible(Promise.reject(failure)), (error) => error === failure);
    // Any thenable, adopted as await adopts it; a then() that throws is a rejection.
    const foreign = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise is the point
      then(resolve: (value: number) => void) {
        resolve(5);
      },
    } as PromiseLike<number>;
    assert.equal(await interruptible(foreign), 5);
    const throwing = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise is the point
      then() {
        throw failure;
      },
    } as PromiseLike<never>;
    await assert.rejects(interruptible(throwing), (error) => error === failure);
  });

  it("rejects at once with the signal's own ThreadInterruptedError when already interrupted, even for a settled promise", async () => {
    currentThread().interrupt('already');
    try {
      const error = await within(interruptible(Promise.resolve('settled')), 20_000, 'interruptible()').catch(
        (e: unknown) => e,
      );
      // With a message: assert.ok() without one parses the source to describe it, which takes
      // minutes on a file run through tsx.
      assert.ok(
        error instanceof ThreadInterruptedError,
        `rejected with a ThreadInterruptedError, not ${String(error)}`,
      );
      assert.equal(error, interruptionSignal().reason);
      assert.equal(error.reason, 'already');
    } finally {
      clearInterrupt();
    }
  });

  it('rejects when the thread is interrupted while it waits', async () => {
    const pending = interruptible(new Promise(() => {}));
    currentThread().interrupt('while waiting');
    try {
      await assert.rejects(
        within(pending, 20_000, 'interruptible()'),
        (error) =>
          error === interruptionSignal().reason && (error as ThreadInterruptedError).reason === 'while waiting',
      );
    } finally {
      clearInterrupt();
    }
  });

  it('handles a rejection of the promise that arrives after the interruption', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let rejectLater: (error: Error) => void = () => {};
      const pending = interruptible(new Promise((_, reject) => (rejectLater = reject)));
      currentThread().interrupt();
      await assert.rejects(pending, ThreadInterruptedError);
      rejectLater(new Error('late'));
      // Already interrupted on entry: the promise is subscribed to all the same.
      await assert.rejects(interruptible(Promise.reject(new Error('early'))), ThreadInterruptedError);
      // Unhandled rejections are reported once the microtask queue drains: a turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      clearInterrupt();
    }
  });

  it('inside a critical section does not reject until the section ends', async () => {
    let pending: Promise<unknown> | undefined;
    let settled = false;
    try {
      await criticalSection(async () => {
        currentThread().interrupt('deferred');
        assert.equal(await interruptible(Promise.resolve('inside')), 'inside');
        pending = interruptible(new Promise(() => {}));
        pending.then(
          () => (settled = true),
          () => (settled = true),
        );
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(settled, false);
      });
      await assert.rejects(
        within(pending!, 20_000, 'interruptible()'),
        (error) => error === interruptionSignal().reason && (error as ThreadInterruptedError).reason === 'deferred',
      );
    } finally {
      clearInterrupt();
    }
  });

  it('removes its listener from the signal when the promise settles', async () => {
    const signal = interruptionSignal();
    const before = getEventListeners(signal, 'abort').length;
    const releases: (() => void)[] = [];
    const pending = Array.from({ length: 500 }, () =>
      interruptible(new Promise<void>((resolve) => releases.push(resolve))),
    );
    assert.equal(getEventListeners(signal, 'abort').length, before + 500);
    for (const release of releases) release();
    await Promise.all(pending);
    await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) => interruptible(i % 2 ? Promise.resolve(i) : Promise.reject(new Error()))),
    );
    assert.equal(getEventListeners(signal, 'abort').length, before);
  });

  it('rejects what is not a thenable with ERR_INVALID_ARG_TYPE', async () => {
    const throwingThen = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('unreadable');
      },
    });
    // biome-ignore lint/suspicious/noThenProperty: a `then` that is not a function makes no thenable
    const thenNotFunction = { then: 1 };
    for (const value of [undefined, null, 42, 'promise', {}, thenNotFunction, throwingThen]) {
      // @ts-expect-error: not a PromiseLike
      const result = interruptible(value);
      assert.ok(result instanceof Promise, 'returns a promise, does not throw');
      await assert.rejects(result, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it("in a thread, rejects with the signal's ThreadInterruptedError; a pending call keeps the thread alive", async () => {
    const sync = syncArray();
    // The promise is Atomics.waitAsync's, which by itself would let the thread end at once.
    const thread = await startPending('interruptibleNever', [], sync);
    await idleButAlive(thread);
    thread.interrupt('stop waiting');
    assert.deepEqual(await within(thread.join()), {
      isThreadInterruptedError: true,
      isSignalReason: true,
      reason: 'stop waiting',
    });
  });

  it('in a thread, an uncaught rejection ends the thread as interrupted', async () => {
    const thread = await startPending('interruptibleNeverUncaught', [], syncArray());
    thread.interrupt();
    assert.equal(await within(thread.join()), undefined);
    assert.equal(thread.state, 'interrupted');
  });

  it('in a thread, resolves with the value when the promise settles first, leaving no listener', async () => {
    const sync = syncArray();
    const thread = await startPending('interruptibleResolved', [], sync);
    set(sync, 3);
    assert.deepEqual(await within(thread.join()), { value: 'ok', listenersPending: 1, listenersAfter: 0 });
  });

  it('in a thread, many settled calls hold nothing: an await nothing settles still ends the thread', async () => {
    const thread = new Thread(fixture, { export: 'interruptibleManyThenUnsettled', args: [1000] }).start();
    await assert.rejects(within(thread.join()), { code: 'ERR_THREAD_UNSETTLED' });
  });
});
