/**
 * The package's rarely run parts (src/rare.ts), reached through {@link rare}: loaded on first
 * use, as the lazily loaded half is (src/lazy.ts says why).
 *
 * Here, in the sources (which tsx runs), it is a plain import. The build (scripts/build.mjs)
 * bundles src/rare.ts as dist/rare.js and puts src/lazy-require.ts in this module's place,
 * which loads that file synchronously on the first call.
 */
import * as rareModule from './rare.js';

/** The package's rarely run parts. */
export function rare(): typeof rareModule {
  return rareModule;
}
