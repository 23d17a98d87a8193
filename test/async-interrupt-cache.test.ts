// The asyncInterrupt cache (src/async-interrupt/instrument-module.ts) serves only what the
// transform wrote: not a file cut short, not a file in a cache directory another user could
// write to. Each step runs in a process of its own (the cache opens once per process), its
// temporary directory pointed at a fresh one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const moduleUrl = new URL('../src/async-interrupt/instrument-module.ts', import.meta.url).href;
const source = 'export function spin(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; }\n';

/** The instrumented source as a fresh process gets it, its temporary directory being `root`. */
function instrumentIn(root: string): string {
  const script = `
    import * as acorn from 'acorn';
    import MagicString from 'magic-string';
    const { instrumentedSource } = await import(${JSON.stringify(moduleUrl)});
    const settings = { config: { regions: false, include: [], cache: true }, packageCode: 'file:///nowhere/' };
    const code = instrumentedSource(${JSON.stringify(source)}, 'file:///app/spin.js', 'module', settings, () => ({ parse: acorn.parse, MagicString }));
    process.stdout.write(JSON.stringify(code));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, TMPDIR: root, TMP: root, TEMP: root },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(output) as string;
}

function cacheDir(root: string): string {
  return join(root, `graceful-threads-${process.getuid?.() ?? 'user'}`, 'async-interrupt');
}

const roots: string[] = [];
function freshRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'gt-cache-test-'));
  roots.push(root);
  return root;
}
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('the asyncInterrupt cache', () => {
  it('reads a file cut short as a miss, and serves what the transform writes', () => {
    const root = freshRoot();
    const expected = instrumentIn(root);
    assert.match(expected, /__graceful_flag/);
    const [file, ...others] = readdirSync(cacheDir(root));
    assert.ok(file !== undefined && others.length === 0, 'one cache file written');
    const path = join(cacheDir(root), file);
    assert.equal(instrumentIn(root), expected, 'a hit serves the same code');
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, whole.slice(0, Math.floor(whole.length / 2)));
    assert.equal(instrumentIn(root), expected, 'a truncated file is not served');
  });

  it('never reads from, nor writes to, a cache directory others can write to', {
    skip: process.getuid === undefined,
  }, () => {
    // Where the cache file goes, learnt in a directory of our own.
    const safe = freshRoot();
    const expected = instrumentIn(safe);
    const [file] = readdirSync(cacheDir(safe));
    assert.ok(file !== undefined);
    // Another user's directory, made first and left writable by all, holding their code.
    const hostile = freshRoot();
    const dir = cacheDir(hostile);
    mkdirSync(dir, { recursive: true });
    chmodSync(join(dir, '..'), 0o777);
    chmodSync(dir, 0o777);
    const planted = 'export function spin() { return "planted"; }\n';
    writeFileSync(
      join(dir, file),
      readFileSync(join(cacheDir(safe), file), 'utf8')
        .replace(/\n[\s\S]*$/, `\n${planted}`)
        .replace(/ \d+\n/, ` ${planted.length}\n`),
    );
    assert.equal(instrumentIn(hostile), expected);
    assert.deepEqual(readdirSync(dir), [file], 'nothing written there');
  });
});
