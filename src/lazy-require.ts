/**
 * What the bundles hold in place of src/lazy.ts (scripts/build.mjs swaps it in): the package's
 * lazily loaded half, dist/heavy.js, loaded synchronously on the first call.
 *
 * heavy.js holds no copy of the modules index.js holds: while it loads, it takes their bindings
 * from a registered global symbol, where index.js puts them (the build lists which) for that
 * moment only.
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
export function provideInternals(key: string, bindings: unknown): void {
  internals = { key: Symbol.for(key), bindings };
  if (isMainThread) heavy();
}

/** The lazily loaded half of the package. */
export function heavy(): typeof heavyModule {
  if (loaded === undefined) {
    if (internals === undefined) throw new Error('graceful-threads: heavy.js was needed before index.js had loaded');
    const holder = globalThis as Record<symbol, unknown>;
    // require() evaluates heavy.js before it returns: nobody else sees the bindings.
    holder[internals.key] = internals.bindings;
    try {
      loaded = requireSibling('./heavy.js') as typeof heavyModule;
    } finally {
      delete holder[internals.key];
    }
  }
  return loaded;
}

/** Whether {@link heavy} has loaded it. */
export function heavyLoaded(): boolean {
  return loaded !== undefined;
}

/** The package's rarely run parts of the light half, dist/rare.js: it needs nothing from index.js. */
export function rare(): typeof rareModule {
  rareLoaded ??= requireSibling('./rare.js') as typeof rareModule;
  return rareLoaded;
}
