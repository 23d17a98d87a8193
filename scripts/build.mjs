// Builds the package with esbuild (one readable ESM bundle per entry) and its type declarations
// with tsc, and the demo.
//
//   node scripts/build.mjs                  dist/: bundles and declarations (npm run build)
//   node scripts/build.mjs --demo           dist/ bundles (declarations already built are kept),
//                                           examples/ into .tmp/examples, then runs the demo here
//                                           (npm run demo: no tsc on the way to its first line)
//   node scripts/build.mjs --examples DIR   only the examples, into DIR (tests)
//
// Bundles: a thread loads dist/bootstrap.js, then its target, and dist/index.js when the target
// imports 'graceful-threads'. Each file a thread loads costs start time and memory in every
// thread, so each entry is one file. Modules both bundles contain (the thread state, the errors)
// are evaluated twice in such a thread; they keep their state on registered global symbols, so
// the two copies share it (as two copies of the package do).
//
// dist/ is built in a staging directory and swapped in, so that a test run or a demo starting
// beside a rebuild does not load half-written files.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

/** What every bundle shares: readable ESM for Node 20 and newer, `node:` modules left as imports. */
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // The package ships src/, which the maps point to.
  sourcesContent: false,
  logLevel: 'warning',
  absWorkingDir: root,
};

/**
 * The bootstrap loads the package's main module (dist/index.js) only when a thread's args hold
 * locks, queues…: as the sibling file, never bundled into it.
 */
const mainModuleStaysExternal = {
  name: 'main-module-stays-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
      args.importer.endsWith('bootstrap.ts') ? { path: './index.js', external: true } : undefined,
    );
  },
};

/** Bundles src/ into `outdir`, writing the files as if they were in dist/ (their maps point to ../src). */
async function bundlePackage(outdir) {
  const result = await esbuild.build({
    ...common,
    entryPoints: { index: 'src/index.ts', bootstrap: 'src/bootstrap.ts' },
    outdir: dist,
    write: false,
    plugins: [mainModuleStaysExternal],
  });
  for (const file of result.outputFiles) writeFileSync(join(outdir, relative(dist, file.path)), file.contents);
}

/** Emits the declarations (and type-checks src) into `outdir`, with maps as if it were dist/. */
function emitDeclarations(outdir) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outdir], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const name of readdirSync(outdir, { recursive: true })) {
    if (!name.endsWith('.d.ts.map')) continue;
    const path = join(outdir, name);
    const map = JSON.parse(readFileSync(path, 'utf8'));
    const from = dirname(join(dist, name));
    map.sources = map.sources.map((source) => relative(from, resolve(dirname(path), source)));
    writeFileSync(path, JSON.stringify(map));
  }
}

/** Replaces dist/ with `staging`; the window without a dist/ is two renames long. */
function swapIntoDist(staging) {
  for (let attempt = 0; ; attempt++) {
    const old = `${staging}-old`;
    try {
      renameSync(dist, old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(staging, dist);
      rmSync(old, { recursive: true, force: true });
      return;
    } catch (error) {
      rmSync(old, { recursive: true, force: true });
      // Another build swapped its dist/ in between our two renames: take its place.
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || attempt >= 10) throw error;
    }
  }
}

/** Builds dist/: the bundles, and the declarations (or those of the dist/ it replaces). */
async function buildPackage({ types }) {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const staging = mkdtempSync(join(root, '.tmp', 'dist-'));
  try {
    await bundlePackage(staging);
    if (types) {
      emitDeclarations(staging);
    } else {
      for (const name of safeReaddir(dist)) {
        if (/\.d\.ts(\.map)?$/.test(name)) cpSync(join(dist, name), join(staging, name), { recursive: true });
      }
    }
    swapIntoDist(staging);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function safeReaddir(dir) {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Bundles the demo and its thread into `outdir`. 'graceful-threads' stays an import: inside this
 * package's directory Node resolves it to dist/index.js, as it would the installed package.
 */
async function buildExamples(outdir) {
  await esbuild.build({
    ...common,
    entryPoints: ['examples/demo.ts', 'examples/sleeper.ts'],
    outdir,
    external: ['graceful-threads'],
  });
}

const args = process.argv.slice(2);
try {
  if (args[0] === '--examples' && args[1] !== undefined) {
    await buildExamples(resolve(args[1]));
  } else if (args[0] === '--demo') {
    await buildPackage({ types: false });
    await buildExamples(join(root, '.tmp', 'examples'));
  } else if (args.length === 0) {
    await buildPackage({ types: true });
  } else {
    throw new Error(`Unknown arguments: ${args.join(' ')}. See the comment at the top of scripts/build.mjs.`);
  }
} finally {
  // esbuild's service process would otherwise live on beside the demo.
  await esbuild.stop();
}
if (args[0] === '--demo') await import(pathToFileURL(join(root, '.tmp', 'examples', 'demo.js')).href);
