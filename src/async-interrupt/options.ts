/**
 * The `asyncInterrupt` option of `Thread` and `ThreadPool`: its type, its check, and what the
 * thread receives of it in its start data.
 */
import { codedError, describeValue, invalidArgType } from '../coded-errors.js';
import { moduleUrl } from '../runtime/node.js';
import { asyncInterruptUnavailable } from '../runtime/node-hooks.js';

/**
 * How an opted-in thread is reached by an interrupt it never polls for:
 * - `true` (or `{}`): anywhere outside critical sections;
 * - `'regions'`: only inside `allowInterruption()` regions (and never in critical sections);
 * - an object to list dependencies to instrument too, or to choose the mode.
 *
 * @example
 * ```ts
 * new Thread(new URL('./solver.js', import.meta.url), { asyncInterrupt: true });
 * new Thread(new URL('./render.js', import.meta.url), { asyncInterrupt: 'regions' });
 * new ThreadPool(new URL('./tasks.js', import.meta.url), { asyncInterrupt: { include: ['some-solver-lib'] } });
 * ```
 */
export type AsyncInterruptOption = boolean | 'regions' | AsyncInterruptConfig;

/**
 * The object form of {@link AsyncInterruptOption}.
 *
 * @example
 * ```ts
 * const options: AsyncInterruptConfig = { mode: 'regions', include: ['some-solver-lib'], cache: false };
 * new Thread(new URL('./solver.js', import.meta.url), { asyncInterrupt: options });
 * ```
 */
export interface AsyncInterruptConfig {
  /** `'everywhere'` (the default) or `'regions'`: see {@link AsyncInterruptOption}. */
  mode?: 'everywhere' | 'regions';
  /**
   * Code under `node_modules` to instrument as well (it is left untouched otherwise): package
   * names (`'lodash'`, `'@scope/name'`), or absolute paths or `file:` URLs of directories.
   * This package itself is never instrumented.
   */
  include?: readonly (string | URL)[];
  /**
   * Keep instrumented modules in a cache keyed by their content, so the next thread that loads
   * them skips the transform. Default true. The cache lives in the OS's temporary directory.
   */
  cache?: boolean;
}

/** @internal What a thread's start data carries of the option. */
export interface AsyncInterruptStart {
  readonly regions: boolean;
  /** `node_modules/<name>/` segments and `file:` URL prefixes to instrument too. */
  readonly include: readonly string[];
  readonly cache: boolean;
}

const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

/**
 * @internal Checks the option (`where` names it in messages) and turns it into what the thread
 * receives; undefined when the thread does not opt in.
 */
export function asyncInterruptStart(value: unknown, where: string): AsyncInterruptStart | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { regions: false, include: [], cache: true };
  if (value === 'regions') return { regions: true, include: [], cache: true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgType(where, "true, 'regions' or an object ({ mode, include, cache })", value);
  }
  const { mode, include, cache } = value as AsyncInterruptConfig;
  if (mode !== undefined && mode !== 'everywhere' && mode !== 'regions') {
    throw codedError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `${where}.mode must be 'everywhere' or 'regions'. Received ${describeValue(mode)}.`,
    );
  }
  if (cache !== undefined && typeof cache !== 'boolean') throw invalidArgType(`${where}.cache`, 'a boolean', cache);
  if (include !== undefined && !Array.isArray(include)) {
    throw invalidArgType(`${where}.include`, 'an array of package names, paths or URLs', include);
  }
  return {
    regions: mode === 'regions',
    include: (include ?? []).map((entry) => includeEntry(entry, where)),
    cache: cache ?? true,
  };
}

function includeEntry(entry: unknown, where: string): string {
  if (entry instanceof URL) return directoryPrefix(entry.href);
  if (typeof entry !== 'string') {
    throw invalidArgType(`${where}.include[]`, 'a package name, an absolute path or a file: URL', entry);
  }
  if (entry.startsWith('file:')) return directoryPrefix(new URL(entry).href);
  if (entry.startsWith('/') || /^[a-z]:[\\/]/i.test(entry)) return directoryPrefix(moduleUrl(entry).href);
  if (PACKAGE_NAME.test(entry)) return `/node_modules/${entry}/`;
  throw codedError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `${where}.include lists ${describeValue(entry)}, which is neither a package name ('lodash', '@scope/name') nor an absolute path or file: URL. List the packages under node_modules whose code the thread should be able to interrupt.`,
  );
}

function directoryPrefix(href: string): string {
  return href.endsWith('/') || /\.[cm]?[jt]s$/.test(href) ? href : `${href}/`;
}

/**
 * @internal Throws, in the thread that starts an opted-in thread, when the runtime has no module
 * hooks or the transform's dependencies (optional peer dependencies of this package) are missing.
 */
export function assertTransformInstalled(): void {
  const why = asyncInterruptUnavailable();
  if (why !== undefined) throw codedError(Error, 'ERR_ASYNC_INTERRUPT_UNAVAILABLE', why);
}
