// The demo (npm run demo) under Ctrl-C, which the library handles: the first SIGINT interrupts
// every thread and waits for each to print its line.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Collects a child's stdout and resolves `waitFor(text)` once a line containing `text` has arrived. */
function watchOutput(child: ChildProcess) {
  let output = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    output += chunk;
    for (const waiter of waiters.splice(0)) {
      if (output.includes(waiter.text)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    output: () => output,
    exited,
    waitFor(text: string, timeoutMs = 30_000): Promise<void> {
      if (output.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" within ${timeoutMs} ms; output:\n${output}`)),
          timeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ text, resolve: done });
        void exited.then(() => {
          clearTimeout(timer);
          if (!output.includes(text)) reject(new Error(`the demo exited before "${text}"; output:\n${output}`));
        });
      });
    },
  };
}

describe('the demo', () => {
  // Inside the package, so that the demo's import of 'graceful-threads' resolves to dist/.
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'demo-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('Ctrl-C with no handler in the demo: every thread prints its line, then exit 130', {
    timeout: 90_000,
  }, async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--examples', dir], { cwd: root, stdio: 'pipe' });
    const child = spawn(process.execPath, [join(dir, 'demo.js')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    const demo = watchOutput(child);
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await demo.waitFor('Started 8 threads');
      // Some threads may still be loading: they see the interrupt at their first instruction.
      child.kill('SIGINT');
      const { code, signal } = await demo.exited;
      const output = demo.output();
      assert.equal(signal, null, `killed by ${signal}; output:\n${output}${stderr}`);
      assert.equal(code, 130, `output:\n${output}${stderr}`);
      const stopped = output.match(/sleeper-\d+ +stopped on SIGINT/g) ?? [];
      assert.equal(new Set(stopped.map((line) => line.split(/ +/)[0])).size, 8, output);
      assert.equal(stderr, '');
    } finally {
      clearTimeout(guard);
    }
  });
});
