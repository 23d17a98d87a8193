// Runs the Node suite's test files (node:test, TypeScript) on Bun or Deno, against the built
// package (dist/: the tests import 'graceful-threads', which resolves to it).
//
//   node scripts/test-runtime.mjs bun|deno [test/x.test.ts ...]   (npm run test:bun, test:deno)
//
// Each file runs in a process of its own, as `node --test` runs them: the files count threads
// and set process-wide state, and `bun test` would otherwise load them all into one process.
// Bun runs node:test files with `bun test`; Deno with `deno test`, which maps describe/it onto
// its own tests and steps. The runtime comes from scripts/runtimes.mjs (the npm registry).
// What a runtime does not support is listed in test/runtime-gaps.mjs (and in the README's
// "Runtime support"), each with the runtime's issue behind it: those files do not run there,
// and those tests are filtered out by name.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gaps } from '../test/runtime-gaps.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const runtime = process.argv[2];
if (runtime !== 'bun' && runtime !== 'deno') {
  console.error('Usage: node scripts/test-runtime.mjs bun|deno [test files...]');
  process.exit(2);
}
const binary = execFileSync(process.execPath, [join(root, 'scripts', 'runtimes.mjs'), runtime], {
  encoding: 'utf8',
}).trim();
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0];

const { files: skippedFiles, tests: skippedTests } = gaps[runtime];
const asked = process.argv.slice(3).map((file) => relative(root, file));
// The Node suite, and the runtime's own tests (test/deno/: what only that runtime has).
const testFiles = (dir) =>
  readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `${dir}/${name}`);
const all = [...testFiles('test'), ...(existsSync(join(root, 'test', runtime)) ? testFiles(`test/${runtime}`) : [])];
const files = (asked.length > 0 ? asked : all).filter((file) => !Object.hasOwn(skippedFiles, file));

// A test runs unless its full name ("describe > it", as both runners print it) is a listed gap.
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const excluded = Object.keys(skippedTests);

/** The command that runs one test file on the runtime, in a process of its own. */
function command(file) {
  if (runtime === 'bun') {
    const args = ['test', '--timeout', '120000'];
    if (excluded.length > 0) {
      // Bun matches the pattern against "describe it", joined by a space.
      const names = excluded.map((name) => escapeRegExp(name.replaceAll(' > ', ' ')));
      args.push('--test-name-pattern', `^(?!(?:${names.join('|')})$)`);
    }
    return [binary, [...args, file]];
  }
  // --sloppy-imports: the tests import src/*.ts by their .js names, as tsx and tsc resolve them.
  // --no-check: the suite is type-checked by tsc (npm run lint) against @types/node.
  // --v8-flags: test/memory-model.test.ts proves with V8's natives that TurboFan compiled its loop;
  // Deno's node:v8 setFlagsFromString does not turn them on once the process runs.
  const args = ['test', '--allow-all', '--no-check', '--sloppy-imports', '--v8-flags=--allow-natives-syntax'];
  // Deno's --filter cannot leave out one it() of a describe(): the test files' node:test is
  // mapped to a copy that does not register the listed ones.
  args.push('--import-map', denoImportMap());
  return [binary, [...args, file]];
}

/** An import map that gives the test files scripts/deno-node-test.mjs for node:test. */
function denoImportMap() {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const path = join(root, '.tmp', 'deno-test-import-map.json');
  const scope = pathToFileURL(join(root, 'test')).href + '/';
  const shim = pathToFileURL(join(root, 'scripts', 'deno-node-test.mjs')).href;
  writeFileSync(path, JSON.stringify({ scopes: { [scope]: { 'node:test': shim } } }));
  return path;
}

/** Runs one file; resolves to its outcome and what it printed. */
function runFile(file) {
  const [cmd, args] = command(file);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    // A file that hangs past every test's own timeout is a failure, not a stalled CI.
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ file, ok: code === 0, code: code ?? signal, output, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** The number of tests a file's run passed and failed, read from the runner's summary. */
function counts(printed) {
  // Deno colours its report whatever NO_COLOR says when its output is a pipe.
  const output = printed.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  if (runtime === 'bun') {
    const pass = /^\s*(\d+) pass$/m.exec(output);
    const fail = /^\s*(\d+) fail$/m.exec(output);
    return { passed: Number(pass?.[1] ?? 0), failed: Number(fail?.[1] ?? 0) };
  }
  // Deno counts describe() blocks as tests and it() as steps: count the steps' lines.
  const passed = output.match(/^\s+.* \.\.\. ok \(/gm)?.length ?? 0;
  const failed = output.match(/^\s+.* \.\.\. FAILED \(/gm)?.length ?? 0;
  return { passed, failed };
}

console.log(
  `== ${files.length} test files on ${version} (${all.filter((file) => Object.hasOwn(skippedFiles, file)).length} not run there: test/runtime-gaps.mjs)`,
);
const started = performance.now();
const queue = [...files];
const results = [];
const concurrency = 2;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const result = await runFile(file);
      results.push(result);
      const { passed, failed } = counts(result.output);
      console.log(
        `${result.ok ? 'ok  ' : 'FAIL'} ${file}: ${passed} passed, ${failed} failed (${result.seconds.toFixed(1)} s)`,
      );
      if (!result.ok) console.log(result.output.replace(/^/gm, '    '));
    }
  }),
);
const total = results
  .map((result) => counts(result.output))
  .reduce((a, b) => ({
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
  }));
const failedFiles = results.filter((result) => !result.ok).length;
console.log(
  `== ${version}: ${results.length - failedFiles}/${results.length} files ok, in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`${total.passed} passed, ${total.failed + (total.failed === 0 ? failedFiles : 0)} failed`);
process.exitCode = failedFiles === 0 ? 0 : 1;
