/**
 * What the bundles hold in place of src/lazy.ts (scripts/build.mjs swaps it in): the package's
 * lazily loaded half, dist/heavy.js, loaded synchronously on the first call.
 *
 * heavy.js holds no copy of the modules index.js holds: while it loads, it takes their bindings
 * from a registered global symbol, where index.js puts them (the build lists which) for that
 * moment only. So does rare.js, the rarely run parts of the light half (src/rare.ts).
 */
import type * as heavyModule from './heavy.js';
import type * as rareModule from './rare.js';
import { isMainThread, requireSibling } from './runtime/node.js';

let loaded: typeof heavyModule | undefined;
let rareLoaded: typeof rareModule | undefined;
let internals: { readonly key: symbol; readonly bindings: unknown } | undefined;

/**
 * Called by index.js as it loads (the build writes the call, last): what heavy.js takes from it.
 * The main thread loads heavy.js at once: it is one thread, it starts the threads, and its first
 * `new Thread()` should not pay for loading it (1–2 ms on the first start).
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const provideInternals = (function (key: string, bindings: unknown): void {
  internals = { key: Symbol.for(key), bindings };
  if (isMainThread) heavy();
});

/** The lazily loaded half of the package. */
export function heavy(): typeof heavyModule {
  loaded ??= load('./heavy.js') as typeof heavyModule;
  return loaded;
}

/** Whether {@link heavy} has loaded it. */
export function heavyLoaded(): boolean {
  return loaded !== undefined;
}

/** The package's rarely run parts of the light half, dist/rare.js. */
export function rare(): typeof rareModule {
  rareLoaded ??= load('./rare.js') as typeof rareModule;
  return rareLoaded;
}

/** Loads heavy.js or rare.js, handing it index.js's bindings. */
function load(file: string): unknown {
  if (internals === undefined) throw new Error(`graceful-threads: ${file} was needed before index.js had loaded`);
  const holder = globalThis as Record<symbol, unknown>;
  // require() evaluates the file before it returns: nobody else sees the bindings. One file
  // may load the other as it loads: the bindings stay until the outer one has loaded.
  const outer = internals.key in holder;
  holder[internals.key] = internals.bindings;
  try {
    return requireSibling(file);
  } finally {
    if (!outer) delete holder[internals.key];
  }
}
