/**
 * The browser suite: test/browser/suite.js's cases, run in Debian's Chromium and Firefox ESR
 * (headless, through puppeteer-core: scripts/browsers.mjs), served with the cross-origin
 * isolation headers by scripts/serve.mjs. Run by `npm run test:browsers`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser } from '../../scripts/browsers.mjs';
import { startServer } from '../../scripts/serve.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

type Result = Record<string, unknown>;

/** Builds test/browser/bundled/ with esbuild for the browser, resolving 'graceful-threads' as an installed package. */
async function bundleApp(): Promise<string> {
  const dir = join(root, '.tmp', 'browser-bundle');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'graceful-threads'), 'dir');
  for (const name of ['main.js', 'worker.js', 'plain.js']) {
    writeFileSync(join(dir, name), readFileSync(join(root, 'test', 'browser', 'bundled', name)));
  }
  await esbuild.build({
    absWorkingDir: dir,
    entryPoints: ['main.js', 'worker.js', 'plain.js'],
    outdir: join(dir, 'out'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'error',
  });
  writeFileSync(
    join(dir, 'out', 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>bundled</title><script type="module">import { run } from "./main.js"; window.run = run;</script>',
  );
  return '/.tmp/browser-bundle/out/';
}

for (const name of ['chromium', 'firefox'] as const) {
  describe(`in ${name}`, () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      server = await startServer();
      browser = await launchBrowser(name);
      page = await browser.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(`${server.url}/test/browser/suite.html`);
      await page.waitForFunction(() => (window as { suiteReady?: boolean }).suiteReady === true, { timeout: 20_000 });
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    // Through JSON: the two protocols disagree on whether a field that is undefined crosses.
    const run = async (test: string): Promise<Result> =>
      JSON.parse(
        JSON.stringify(
          await page.evaluate(
            (t) => (window as unknown as { cases: Record<string, () => Promise<Result>> }).cases[t]!(),
            test,
          ),
        ),
      ) as Result;

    it('serves the suite cross-origin isolated, and loads the package with no bundler', async () => {
      assert.deepEqual(await run('isolation'), { crossOriginIsolated: true });
      assert.deepEqual(pageErrors, []);
    });

    it('runs a target in a module worker and returns its result', async () => {
      const { value, state } = await run('result');
      assert.equal(state, 'finished');
      assert.deepEqual({ ...(value as Result), threadId: undefined }, { sum: 5, name: 'adder', threadId: undefined });
    });

    it('runs a target that does not import the package', async () => {
      assert.deepEqual(await run('plainTarget'), { value: 42, state: 'finished' });
    });

    it("rejects join() with the target's error, rebuilt in its class", async () => {
      assert.deepEqual(await run('failure'), {
        rejected: true,
        name: 'RangeError',
        message: 'no luck',
        isRangeError: true,
        state: 'failed',
      });
    });

    it('says ERR_THREAD_MODULE_NOT_FOUND for a module the server does not have', async () => {
      const result = await run('missingModule');
      assert.equal(result.code, 'ERR_THREAD_MODULE_NOT_FOUND', String(result.message));
      assert.match(String(result.message), /^Cannot find the thread's module http:.*no-such-file\.js\. /);
      assert.equal(result.state, 'failed');
    });

    it('stops a JIT-compiled loop that polls interruptionRequested()', async () => {
      // A read hoisted out of the loop (SpiderMonkey hoists a plain one) shows as a thread that
      // runs on for seconds (5 s in Firefox 153) until something drops it out of optimized code.
      const result = await run('spinLoop');
      assert.equal(result.state, 'finished');
      assert.ok((result.count as number) >= 20_000_000);
      assert.ok((result.stopMs as number) < 1500, `stopped ${result.stopMs} ms after the interrupt`);
    });

    it('stops that loop too when the user agent is overridden to name the other engine', async () => {
      // The engine, not the user agent, decides the check: Firefox told to say Chrome/ (as its
      // responsive design mode or an extension makes it) used to get the plain read, which it hoists.
      const other =
        name === 'firefox'
          ? 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36'
          : 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';
      const spoofed = await browser.newPage();
      try {
        await spoofed.setUserAgent(other);
        await spoofed.goto(`${server.url}/test/browser/suite.html`);
        await spoofed.waitForFunction(() => (window as { suiteReady?: boolean }).suiteReady === true, {
          timeout: 20_000,
        });
        assert.equal(await spoofed.evaluate(() => navigator.userAgent), other);
        const result = (await spoofed.evaluate(() =>
          (window as unknown as { cases: Record<string, () => Promise<Result>> }).cases.spinLoop!(),
        )) as Result;
        assert.equal(result.state, 'finished');
        assert.ok((result.stopMs as number) < 1500, `stopped ${result.stopMs} ms after the interrupt`);
      } finally {
        await spoofed.close();
      }
    });

    it('stops a loop that calls checkInterrupt(), which throws', async () => {
      const result = await run('checkedLoop');
      assert.equal(result.state, 'interrupted');
      assert.equal(result.value, undefined);
      assert.ok((result.stopMs as number) < 1500, `stopped ${result.stopMs} ms after the interrupt`);
    });

    it('wakes a worker from sleep() on an interrupt', async () => {
      const result = await run('sleepWakes');
      assert.equal(result.state, 'interrupted');
      // Under sleep()'s 1 s re-check slice: a lost wake-up (no Atomics.notify) would end the sleep
      // at the slice, not at the interrupt.
      assert.ok((result.sleptMs as number) < 950, `slept ${result.sleptMs} ms of 60 000`);
    });

    it('lets sleep() run its time when nothing interrupts it', async () => {
      const result = await run('sleepEnds');
      assert.equal(result.state, 'finished');
      assert.equal(result.value, 'short');
      assert.ok((result.sleptMs as number) >= 29, `slept ${result.sleptMs} ms of 30`);
    });

    it('aborts a fetch through interruptionSignal()', async () => {
      const { value, state } = await run('fetchAborts');
      assert.equal(state, 'finished');
      const outcome = value as Result;
      assert.equal(outcome.settled, 'rejected');
      // How each browser rejects: Chromium with the signal's reason, Firefox with an AbortError.
      if (name === 'chromium') {
        assert.equal(outcome.isThreadInterruptedError, true);
        assert.equal(outcome.isSignalReason, true);
      } else {
        assert.equal(outcome.name, 'AbortError');
        assert.equal(outcome.isThreadInterruptedError, false);
      }
    });

    it('defers an interrupt until the critical section closes', async () => {
      assert.deepEqual(await run('criticalDefers'), { state: 'interrupted', inside: 1, after: 0 });
    });

    it('reaches a nested worker with interruptAllThreads()', async () => {
      assert.deepEqual(await run('interruptAll'), {
        count: 2,
        value: { parentInterrupted: true, childState: 'interrupted' },
        state: 'finished',
      });
    });

    it('runs a thread that a thread started and did not join to its end, as Node does', async () => {
      // The parent's worker used to close as its target returned: the child never started.
      const result = await run('childLeftRunning');
      assert.equal(result.value, 'returned');
      assert.equal(result.childStarted, 1);
      assert.ok((result.childSleptMs as number) >= 199, `the child slept ${result.childSleptMs} ms of 200`);
    });

    it('terminates a worker: join() rejects with ERR_THREAD_TERMINATED', async () => {
      const result = await run('terminate');
      assert.equal(result.code, 'ERR_THREAD_TERMINATED');
      assert.equal(result.state, 'terminated');
    });

    it("refuses to block the page's main thread with ERR_BLOCKING_WAIT_ON_MAIN_THREAD (joinSync(): ERR_UNSUPPORTED_IN_BROWSER); sleepAsync works", async () => {
      const { errors, tryAcquired, sleepAsyncMs } = await run('mainThreadBlocking');
      assert.deepEqual(Object.keys(errors as object), ['sleep', 'joinSync', 'event', 'free lock', 'set event']);
      assert.equal(tryAcquired, true);
      for (const [what, error] of Object.entries(errors as Record<string, Result>)) {
        const code = what === 'joinSync' ? 'ERR_UNSUPPORTED_IN_BROWSER' : 'ERR_BLOCKING_WAIT_ON_MAIN_THREAD';
        assert.equal(error.code, code, `${what}: ${JSON.stringify(error)}`);
      }
      assert.ok((sleepAsyncMs as number) >= 19);
    });

    it('wakes a worker blocked on an Event the page holds: by set(), and by an interrupt', async () => {
      assert.deepEqual(await run('eventWait'), { results: [{ set: true }, { interrupted: true }] });
    });

    it('ends a worker on an uncaught error from a timer: join() rejects with it', async () => {
      assert.deepEqual(await run('uncaught'), {
        rejected: true,
        name: 'TypeError',
        message: 'thrown from a timer',
        state: 'failed',
      });
    });

    it('shuts every thread down with shutdown(): each ends interrupted, in time', async () => {
      // Each ends as its outcome arrives, though shutdown() terminates a worker that has ended.
      assert.deepEqual(await run('shutdownAll'), {
        states: ['interrupted', 'interrupted'],
        errors: [null, null],
        ended: 2,
        terminated: 0,
      });
    });

    it('keeps the error a thread died of when shutdown() terminates it as it ends', async () => {
      // Without waiting for the end marker, most of them rejected ERR_THREAD_EXITED instead.
      assert.deepEqual(await run('shutdownKeepsCrashes'), {
        messages: ['TypeError: thrown after the interrupt N'],
      });
    });

    it('refuses joinSync() in a worker with ERR_UNSUPPORTED_IN_BROWSER (a blocked worker cannot start its thread)', async () => {
      const { value, state } = await run('joinSyncInWorker');
      assert.equal(state, 'finished');
      assert.equal((value as { error: Result }).error.code, 'ERR_UNSUPPORTED_IN_BROWSER');
    });

    it('refuses ThreadPool with ERR_UNSUPPORTED_IN_BROWSER', async () => {
      assert.equal((await run('pool')).code, 'ERR_UNSUPPORTED_IN_BROWSER');
    });

    it('carries an interrupt reason that is not a string to the thread, as it was, typed arrays and wrappers included (and refuses a function, a WeakMap)', async () => {
      assert.deepEqual(await run('interruptReason'), {
        refused: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
        weakMapRefused: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
        value: {
          why: 'deadline',
          at: 0,
          causeIsRangeError: true,
          causeMessage: 'too late',
          tags: ['a'],
          big: String(2n ** 70n),
          bytes: [1, 65535],
          flag: false,
        },
        interrupted: true,
      });
    });

    it('throws ERR_CROSS_ORIGIN_ISOLATION_REQUIRED, naming the headers, in a page without them', async () => {
      const open = await browser.newPage();
      try {
        await open.goto(`${server.url}/open/test/browser/isolation.html`);
        const result = await open.evaluate(() => (window as unknown as { loaded: Promise<Result> }).loaded);
        assert.equal(result.loaded, false);
        assert.equal(result.code, 'ERR_CROSS_ORIGIN_ISOLATION_REQUIRED');
        assert.match(String(result.message), /Cross-Origin-Opener-Policy: same-origin/);
        assert.match(String(result.message), /Cross-Origin-Embedder-Policy: require-corp/);
      } finally {
        await open.close();
      }
    });

    it("fails a thread whose worker the page's Content-Security-Policy forbids (no blob: workers), rather than never settle", async () => {
      const strict = await browser.newPage();
      try {
        await strict.goto(`${server.url}/csp/test/browser/suite.html`);
        await strict.waitForFunction(() => (window as { suiteReady?: boolean }).suiteReady === true, {
          timeout: 20_000,
        });
        const result = (await strict.evaluate(() =>
          (window as unknown as { cases: Record<string, () => Promise<Result>> }).cases.failure!(),
        )) as Result;
        assert.equal(result.rejected, true, JSON.stringify(result));
        assert.equal(result.code, 'ERR_THREAD_EXITED', JSON.stringify(result));
        assert.match(String(result.message), /worker-src blob:/);
        assert.equal(result.state, 'failed');
      } finally {
        await strict.close();
      }
    });

    it('runs an app bundled by esbuild (platform browser), which picks the browser build by itself; a bundled module without the package fails its thread', async () => {
      const path = await bundleApp();
      const bundle = readFileSync(join(root, path, 'main.js'), 'utf8');
      assert.match(bundle, /ERR_CROSS_ORIGIN_ISOLATION_REQUIRED/);
      assert.doesNotMatch(bundle, /getBuiltinModule/);
      const app = await browser.newPage();
      try {
        await app.goto(`${server.url}${path}`);
        await app.waitForFunction(() => typeof (window as { run?: unknown }).run === 'function', { timeout: 20_000 });
        const result = await app.evaluate(() =>
          (window as unknown as { run: (sync: Int32Array) => Promise<Result> }).run(
            new Int32Array(new SharedArrayBuffer(16)),
          ),
        );
        const { plainMessage, ...rest } = JSON.parse(JSON.stringify(result)) as Result;
        assert.deepEqual(rest, {
          state: 'interrupted',
          plainError: 'ERR_THREAD_EXITED',
          plainState: 'failed',
          missing: { name: 'TypeError', namesModule: true },
        });
        assert.match(String(plainMessage), /plain\.js does not import graceful-threads/);
      } finally {
        await app.close();
      }
    });
  });
}
