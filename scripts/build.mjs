// Builds the package with esbuild (one readable ESM bundle per entry) and its type declarations
// with tsc, and the demo.
//
//   node scripts/build.mjs                  dist/: bundles and declarations (npm run build)
//   node scripts/build.mjs --demo           dist/ bundles (declarations already built are kept),
//                                           examples/ into .tmp/examples, then runs the demo here
//                                           (npm run demo: no tsc on the way to its first line)
//   node scripts/build.mjs --examples DIR   only the examples, into DIR (tests)
//
// Bundles: dist/index.js is the package's entry and each thread's (src/bootstrap.ts): a thread
// loads it, then its target, and a target that imports 'graceful-threads' loads nothing more.
// Each file a thread loads costs start time, and every byte of code in it memory in every
// thread, run or not (src/lazy.ts). So what a thread that only polls its flag never runs (the
// Thread class, the waits, errors rebuilt across threads, the codec of interrupt reasons) is
// dist/heavy.js, loaded on first use. It holds no copy of what index.js holds: index.js hands it
// those modules' bindings (only the ones heavy.js uses) as it loads it (src/lazy-require.ts), so
// each module runs once in a thread and both halves share their classes (ThreadInterruptedError).
// Not through an import of index.js: where a loader turns required ES modules into CommonJS (tsx
// does), that import would load a second copy of index.js.
//
// dist/rare.js (src/rare.ts) is a third file, also loaded on first use: what the light half runs
// only on rarer paths than a thread's start (interrupting, clearing an interrupt, the interruption
// signal, critical sections, sleepAsync(), the errors of bad input). Like heavy.js it takes the
// bindings of index.js's modules from index.js, and holds its own copy of the other modules it
// needs (checked: no state in two copies). index.js exports stand-ins for its public functions
// (src/lazy-export.ts). What a started thread parses costs it start time and memory by the
// function: a thread's RSS moves in steps of about 0.25 MiB as index.js's top-level functions
// pass thresholds (on Node 26, from 91 to 67 functions took 0.2 MiB off each idle thread).
//
// dist/browser/index.js is the browser build (the package's "browser" export condition): one
// bundle, plain ES modules a page or worker loads with no bundler (no bare specifier, no node:
// import), in which each src/runtime/node*.ts module is replaced by its browser*.ts twin. One
// file: a worker cannot load a lazy half synchronously, and a page fetches it once.
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
  // Classes keep their names (Lock, not _Lock) in stack traces, inspect() and error messages.
  keepNames: true,
};

/**
 * In the bundles, src/lazy-require.ts takes the place of src/lazy.ts and src/lazy-rare.ts (which
 * say why): it loads heavy.js and rare.js on first use.
 */
const lazyRequire = {
  name: 'lazy-require',
  setup(build) {
    build.onResolve({ filter: /^\.\/lazy(-rare)?\.js$/ }, (args) =>
      args.importer.startsWith(join(root, 'src')) ? { path: join(root, 'src', 'lazy-require.ts') } : undefined,
    );
  },
};

/** Where src/lazy-require.ts puts index.js's bindings while heavy.js loads. */
const INTERNALS_KEY = 'graceful-threads.heavy-internals.v1';

/**
 * Resolves, in heavy.js, the modules index.js holds (`shared`, absolute paths): to an external
 * `light:<path>` while collecting which bindings heavy.js uses, then to modules that take those
 * bindings from what index.js hands over (src/lazy-require.ts).
 */
function sharedFromIndex(shared, names) {
  return {
    name: 'shared-from-index',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        let path = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        // What index.js holds in place of src/lazy.ts and src/lazy-rare.ts (lazyRequire).
        if (path === join(root, 'src', 'lazy.ts') || path === join(root, 'src', 'lazy-rare.ts'))
          path = join(root, 'src', 'lazy-require.ts');
        if (!shared.has(path)) return undefined;
        const module = relative(root, path);
        return names === undefined
          ? { path: `light:${module}`, external: true }
          : { path: module, namespace: 'shared' };
      });
      build.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => {
        const used = names.get(args.path) ?? [];
        const internals = `globalThis[Symbol.for(${JSON.stringify(INTERNALS_KEY)})]`;
        return {
          loader: 'js',
          contents:
            used.length === 0
              ? ''
              : `export const { ${used.join(', ')} } = ${internals}[${JSON.stringify(args.path)}];`,
        };
      });
    },
  };
}

/** The bindings of each shared module that a bundle built with `sharedFromIndex(shared)` imports. */
function importedBindings(code) {
  const names = new Map();
  const statements = /^import\s*\{([^}]*)\}\s*from\s*"light:([^"]+)";/gm;
  for (const [, list, module] of code.matchAll(statements)) {
    const bindings = list
      .split(',')
      .map((item) => item.trim().split(/\s+as\s+/)[0])
      .filter(Boolean);
    names.set(module, [...new Set([...(names.get(module) ?? []), ...bindings])]);
  }
  const all = code.match(/"light:/g)?.length ?? 0;
  const parsed = code.match(statements)?.length ?? 0;
  if (all !== parsed)
    throw new Error('heavy.js imports a shared module in a form the build cannot follow (import { a, b } only)');
  return names;
}

/**
 * Modules index.js holds of which heavy.js bundles its own copy instead of taking index.js's
 * bindings: then index.js holds only what it uses itself. Only for modules whose state (a `let`,
 * a `var`, a class, a `const` made with `new`), if any, only one bundle holds, so that it exists
 * once in a thread (checked after bundling): the control block's protocol, whose slot claiming and
 * releasing (about 4 KB) only a thread that starts threads runs; the encoder of string reasons;
 * the process hooks of a shutdown, whose state is heavy.js's (index.js runs one stateless function
 * of that module when a thread dies); the Node runtime adapter, of which heavy.js uses only
 * stateless functions (starting workers, report channels, keep-alives). Each thread parses all of
 * index.js as it starts (about 20 us a KB here), and every KB of code costs it memory
 * (src/lazy.ts): on Node 26 a thread's RSS rose by 0.25 MiB in one step as index.js passed about
 * 140 top-level functions, comments or string bytes aside.
 */
const COPIED = ['src/control-block.ts', 'src/reason-text.ts', 'src/runtime/node-process.ts', 'src/runtime/node.ts'];

/**
 * What `module` declares at its top level that is state, of which a second copy in a thread would
 * be a second, diverging one: every let, var and class, and every const but those whose value is
 * the same in any copy (a number, a string, a boolean, a function, a constant expression of other
 * constants, a read of the runtime). An object, an array, `new X()`, `Symbol()` or a call counts:
 * a stricter rule than needed, so that a new form of state cannot slip past it.
 */
function stateOf(module) {
  const declarations =
    /^(?:export\s+)?(?:(?:let|var|class)\s+(\w+)|const\s+(\w+)\s*(?::(?:=>|[^=])*?)?=(?!>)\s*(.*))/gm;
  const constant =
    /^(?:-?\d|['"`]|true\b|false\b|\(?(?:async\s+)?function\b|\([^()]*\)\s*(?::[^=]+)?=>|\w+\s*=>|\w+(?:\s*[-+*/|&]\s*\w+)*;|(?:\w+\.)+\w+;|\[(?:'\w+',?\s*)*\]\s*as const;|\(?(?:process|globalThis)\b)/;
  // Checked by hand: frozen in use, or a value computed once from the runtime.
  const STATELESS = new Set(['Header', 'Field', 'NEVER_LIVE', 'runtimeName', 'flagRead']);
  return [...readFileSync(join(root, module), 'utf8').matchAll(declarations)]
    .filter((match) => match[1] !== undefined || !(constant.test(match[3]) || STATELESS.has(match[2])))
    .map((match) => match[1] ?? match[2]);
}

/** The part of a bundle's `code` that comes from `module` ('' if none). */
function sectionOf(code, module) {
  const start = code.indexOf(`\n// ${module}\n`);
  if (start === -1) return '';
  const end = code.indexOf('\n// ', start + 1);
  return code.slice(start, end === -1 ? undefined : end);
}

/** Throws if index.js and heavy.js both hold a piece of the state of a module of COPIED. */
function checkCopiedState(index, heavy) {
  for (const module of COPIED) {
    const [inIndex, inHeavy] = [sectionOf(index, module), sectionOf(heavy, module)];
    for (const name of stateOf(module)) {
      const declared = new RegExp(`^(?:var|let|class) ${name}\\d*\\b`, 'm');
      if (declared.test(inIndex) && declared.test(inHeavy))
        throw new Error(`build: index.js and heavy.js both hold ${name} of ${module}: two in a thread`);
    }
  }
}

/** Bundles src/ into `outdir`, writing the files as if they were in dist/ (their maps point to ../src). */
async function bundlePackage(outdir) {
  const light = { ...common, outdir: dist, write: false, plugins: [lazyRequire] };
  // What index.js holds: every module the package's entry reaches.
  const plain = await esbuild.build({
    ...light,
    entryPoints: { index: 'src/index.ts' },
    metafile: true,
    sourcemap: false,
  });
  const shared = new Set(Object.keys(plain.metafile.inputs).map((input) => resolve(root, input)));
  for (const module of COPIED) shared.delete(join(root, module));
  // Which of their bindings heavy.js and rare.js use.
  const heavy = { ...common, entryPoints: { heavy: 'src/heavy.ts' }, outdir: dist, write: false, metafile: true };
  const rare = { ...common, entryPoints: { rare: 'src/rare.ts' }, outdir: dist, write: false, metafile: true };
  const [heavyNames, rareNames] = await Promise.all(
    [heavy, rare].map(async (options) => {
      const probe = await esbuild.build({ ...options, sourcemap: false, plugins: [sharedFromIndex(shared)] });
      return importedBindings(probe.outputFiles[0].text);
    }),
  );
  const names = new Map(heavyNames);
  for (const [module, bindings] of rareNames)
    names.set(module, [...new Set([...(names.get(module) ?? []), ...bindings])]);
  // index.js, handing those bindings over; heavy.js, taking them.
  const imports = [];
  const entries = [];
  [...names].forEach(([module, bindings], m) => {
    imports.push(`import { ${bindings.map((name) => `${name} as m${m}_${name}`).join(', ')} } from './${module}';`);
    entries.push(`${JSON.stringify(module)}: { ${bindings.map((name) => `${name}: m${m}_${name}`).join(', ')} }`);
  });
  const entry = {
    name: 'light-entry',
    setup(build) {
      build.onResolve({ filter: /^light-entry$/ }, () => ({ path: 'index', namespace: 'light-entry' }));
      build.onLoad({ filter: /.*/, namespace: 'light-entry' }, () => ({
        resolveDir: root,
        loader: 'js',
        contents: `export * from './src/index.ts';\nimport { provideInternals } from './src/lazy-require.ts';\n${imports.join('\n')}\nprovideInternals(${JSON.stringify(INTERNALS_KEY)}, { ${entries.join(', ')} });\n`,
      }));
    },
  };
  const results = await Promise.all([
    esbuild.build({ ...light, entryPoints: { index: 'light-entry' }, plugins: [entry, lazyRequire] }),
    esbuild.build({ ...heavy, plugins: [sharedFromIndex(shared, heavyNames)] }),
    // rare.js (src/rare.ts), likewise; checked below.
    esbuild.build({ ...rare, plugins: [sharedFromIndex(shared, rareNames)] }),
    // Loaded only by threads started with asyncInterrupt (src/async-interrupt/install.ts): the
    // load hook and the transform. They share no state with index.js, and their parser and
    // printer are the package's optional peer dependencies, left as imports.
    esbuild.build({
      ...common,
      entryPoints: {
        'async-interrupt/install': 'src/async-interrupt/install.ts',
        'async-interrupt/hooks': 'src/async-interrupt/hooks.ts',
      },
      outdir: dist,
      write: false,
      external: ['acorn', 'magic-string'],
    }),
  ]);
  // A module of which rare.js and index.js or heavy.js each hold a copy must hold no state (a
  // second one in the thread); nor may rare.js hold its own copy of the lazy loaders.
  const bundled = (result) => Object.keys(result.metafile.inputs).filter((input) => input.startsWith('src/'));
  const elsewhere = new Set([...Object.keys(plain.metafile.inputs), ...bundled(results[1])]);
  const text = (name) =>
    dropComments(
      dropNoOpNames(
        results.flatMap((result) => result.outputFiles).find((file) => file.path === join(dist, name)).text,
      ),
    );
  for (const input of bundled(results[2])) {
    if (/^src\/lazy/.test(input)) throw new Error(`build: rare.js may not load ${input}`);
    if (!elsewhere.has(input)) continue;
    const inRare = sectionOf(text('rare.js'), input);
    for (const name of stateOf(input)) {
      if (new RegExp(`^(?:var|let|class) ${name}\\d*\\b`, 'm').test(inRare))
        throw new Error(`build: rare.js holds a copy of ${name} of ${input}: two in a thread`);
    }
  }
  checkCopiedState(text('index.js'), text('heavy.js'));
  for (const file of results.flatMap((result) => result.outputFiles)) {
    const contents = file.path.endsWith('.js') ? dropComments(dropNoOpNames(file.text)) : file.contents;
    mkdirSync(dirname(join(outdir, relative(dist, file.path))), { recursive: true });
    writeFileSync(join(outdir, relative(dist, file.path)), contents);
  }
}

/**
 * Blanks the `__name(f, "f");` statements keepNames writes after each function declaration: the
 * function already has that name, and a thread runs the hundred of them as it loads index.js
 * (40-50 us). Lines are blanked, not removed, so the source maps stay right. The statements that
 * do rename (`__name(isThenable2, "isThenable")`, classes, arrows) stay.
 *
 * Likewise unwraps `var f = __name((function(…) {…}), "f");`, a module's top-level `const f =
 * (function (…) {…});` (parenthesized: V8's eager-compilation hint): an anonymous function
 * assigned to `f` is named `f` by the language, parentheses or not. The parentheses stay, and
 * the first line keeps its length (source maps). And the `static { __name(this, "C"); }` block
 * of a top-level `var C = class {…}` (anonymous: named `C` by the language): a static block is one
 * more function V8 compiles and runs as the class is made (ThreadInterruptedError: 20-25 us of each
 * thread's start on Node 26).
 */
function dropNoOpNames(code) {
  const classes = code.replace(
    /^(var (\w+) = class(?: extends [^{\n]+)? \{\n)( {2}static \{\n {4}__name\(this, "\2"\);\n {2}\}\n)/gm,
    (statement, head, _name, block, offset) => {
      // A static `name` of its own would not be replaced by the language's (only by __name()).
      const body = code.slice(offset, code.indexOf('\n};\n', offset));
      if (/^\s*static\s+(?:get\s+)?(?:name\b|\[(?!Symbol\.))/m.test(body)) return statement;
      return head + block.replace(/[^\n]/g, '');
    },
  );
  const unwrapped = classes.replace(
    /^(var (\w+) = )\/\* @__PURE__ \*\/ __name\(\(((?:async )?function\()([\s\S]*?)^\}\), "\2"\);$/gm,
    (_statement, head, name, fn, body) => {
      // The body ends at the first line that starts with `}`: a top-level function's last line.
      if (/^\}/m.test(body)) throw new Error(`build: cannot unwrap __name(${name}): its body is not indented`);
      return `${head}${' '.repeat(22)}((${fn}${body}}));`;
    },
  );
  return unwrapped.replace(/^([ \t]*)__name\((\w+), "\2"\);$/gm, (_statement, _indent, name) => {
    const declared = new RegExp(`^[ \\t]*(?:async[ \\t]+)?function\\*?[ \\t]*${name}\\(`, 'm');
    if (!declared.test(code)) throw new Error(`build: __name(${name}) follows no function declaration of that name`);
    return '';
  });
}

/**
 * Blanks the lines that hold only a comment (esbuild keeps the doc comments of object properties
 * and class fields, and comments inside functions): each thread keeps the source of index.js in
 * memory and its parser reads every byte. Blanked, not removed, so the source maps stay right;
 * the maps point to src/, where the comments are. The `// src/…` line that starts each module's
 * part and the `//# sourceMappingURL` line stay.
 */
function dropComments(code) {
  return code
    .replace(/^[ \t]*\/\/(?!# sourceMappingURL=| (?:src|light-entry)\S*$).*$/gm, '')
    .replace(/^[ \t]*\/\*\*?(?:[^*]|\*(?!\/))*\*\/[ \t]*$/gm, (comment) => comment.replace(/[^\n]/g, ''));
}

/** In the browser build, each src/runtime/node*.ts module is replaced by its browser*.ts twin. */
const browserRuntime = {
  name: 'browser-runtime',
  setup(build) {
    build.onResolve({ filter: /(^|\/)runtime\/node((-[a-z]+)*)\.js$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path).replace(/node((-[a-z]+)*)\.js$/, 'browser$1.ts');
      return path.startsWith(join(root, 'src', 'runtime')) ? { path } : undefined;
    });
  },
};

/** Bundles the browser build into `outdir`/browser, checking it loads as plain ES modules. */
async function bundleBrowser(outdir) {
  const result = await esbuild.build({
    ...common,
    platform: 'browser',
    // Chromium and Firefox versions with module workers and Atomics.waitAsync.
    target: ['chrome89', 'firefox114', 'safari16.4'],
    entryPoints: { index: 'src/index.ts' },
    outdir: join(dist, 'browser'),
    write: false,
    plugins: [browserRuntime],
  });
  mkdirSync(join(outdir, 'browser'), { recursive: true });
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.js')) {
      const imports = /^\s*import\b|\bimport\s*\(\s*["'`]|\bfrom\s*["']|require\(/m.exec(file.text);
      if (imports !== null)
        throw new Error(`build: dist/browser/index.js holds a static import (${imports[0]}): it must load alone`);
      if (/node:/.test(file.text.replace(/\/\/.*$/gm, '')))
        throw new Error('build: dist/browser/index.js mentions a node: module');
    }
    writeFileSync(join(outdir, 'browser', relative(join(dist, 'browser'), file.path)), file.contents);
  }
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
    await bundleBrowser(staging);
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
    entryPoints: ['examples/demo.ts', 'examples/sleeper.ts', 'examples/pipeline.ts', 'examples/pipeline-stages.ts'],
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
