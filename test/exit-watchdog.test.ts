// The test runner's exit watchdog (test/exit-watchdog.mjs): a test file whose process stays alive
// after its last test fails, naming what holds it; a clean file ends at once, all results counted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function runFixture(kind: 'clean' | 'leaky' | 'blocking'): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WATCHDOG_FIXTURE: kind,
    GRACEFUL_THREADS_TEST_EXIT_BOUND_MS: '1000',
    GRACEFUL_THREADS_TEST_FILE_BOUND_MS: kind === 'blocking' ? '3000' : '60000',
  };
  // This file runs as a child of a test runner: the nested runner must not think it is one too.
  delete env.NODE_TEST_CONTEXT;
  const args = [
    '--import',
    './test/exit-watchdog.mjs',
    '--test',
    '--test-reporter=tap',
    'test/fixtures/watchdog-files.mjs',
  ];
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
  });
}

test('a test file that leaks a timer fails after the bound, naming what holds it open', async () => {
  const { code, out } = await runFixture('leaky');
  assert.equal(code, 1, out);
  assert.match(out, /exit watchdog: .*still alive 1 s after its last test, held open by: .*Timeout/);
  assert.match(out, /^# pass 3$/m, out);
});

test('a test file whose main thread blocks for good is killed after the file bound, saying so', async () => {
  const { code, out } = await runFixture('blocking');
  assert.equal(code, 1, out);
  assert.match(out, /exit watchdog: this test file ran 3 s without ending/);
});

test('a clean test file ends without the watchdog, every result counted', async () => {
  const { code, out } = await runFixture('clean');
  assert.equal(code, 0, out);
  assert.doesNotMatch(out, /exit watchdog/);
  assert.match(out, /^# pass 2$/m, out);
});
