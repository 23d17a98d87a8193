// The README's worked example (examples/pipeline.ts) under a real Ctrl-C: the producer stops,
// the consumers drain the queue, and every job put is handled.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the pipeline example', () => {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'pipeline-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stops on SIGINT with every job put handled, none lost', { timeout: 90_000 }, async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--examples', dir], { cwd: root, stdio: 'pipe' });
    const child = spawn(process.execPath, [join(dir, 'pipeline.js')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('Pipeline running')) resolve();
        });
        void exited.then(() => reject(new Error(`exited before it ran:\n${output}${stderr}`)));
      });
      child.kill('SIGINT');
      const { code, signal } = await exited;
      assert.equal(signal, null, `killed by ${signal}:\n${output}${stderr}`);
      assert.equal(code, 0, `${output}${stderr}`);
      const match = /Stopped: (\d+) jobs put, (\d+) handled \([\d + ]+\), (-?\d+) lost\./.exec(output);
      assert.ok(match, `no summary:\n${output}${stderr}`);
      assert.equal(match[1], match[2], output);
      assert.equal(match[3], '0', output);
      assert.equal(stderr, '');
    } finally {
      clearTimeout(guard);
    }
  });
});
