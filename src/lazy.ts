/**
 * The package's rarely used half (src/heavy.ts), reached through {@link heavy}.
 *
 * Every byte of code a thread loads costs that thread memory for as long as it lives, whether or
 * not the code ever runs (V8 keeps the source, and parsing it fills young-generation pages an idle
 * thread never collects: measured +0.5 MiB a thread for 52 KB of code, +0.08 for as many bytes
 * of comments). So what a thread that only polls its flag, sleeps and ends never runs is a
 * separate file, loaded on first use.
 *
 * Here, in the sources (which tsx runs), it is a plain import. The build (scripts/build.mjs)
 * bundles src/heavy.ts as dist/heavy.js and puts src/lazy-require.ts in this module's place,
 * which loads that file synchronously on the first call.
 */
import * as heavyModule from './heavy.js';

/** The lazily loaded half of the package. */
export function heavy(): typeof heavyModule {
  return heavyModule;
}

/** Whether {@link heavy} has loaded it (here, in the sources: always). */
export function heavyLoaded(): boolean {
  return true;
}
