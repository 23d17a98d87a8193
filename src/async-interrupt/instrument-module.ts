/**
 * Decides which modules a thread's load hook instruments, and instruments them through a cache
 * keyed by content. Shared by the in-thread hook (./install.ts, `module.registerHooks`) and the
 * hooks thread of `module.register` (./hooks.ts, Node 20).
 */
import type { AsyncInterruptStart } from './options.js';
import { CHUNK, instrument, SMALL_TRIP_COUNT, type TransformTools } from './transform.js';

/**
 * What the cache keys include besides the source: the transform's settings, and a hash of the
 * file this code was loaded from (in dist/, the bundle holding the transform), so that entries
 * written by any other version of the transform are never read.
 */
let transformVersion: string | undefined;

function version(): string {
  if (transformVersion === undefined) {
    let code = '';
    try {
      code = process.getBuiltinModule('node:fs').readFileSync(new URL(import.meta.url), 'utf8');
    } catch {
      code = String(Math.random()); // no file to hash: an entry only this thread can hit
    }
    const hash = process.getBuiltinModule('node:crypto').createHash('sha256').update(code).digest('hex');
    transformVersion = `graceful-threads-async-interrupt/${CHUNK}/${SMALL_TRIP_COUNT}/${hash}`;
  }
  return transformVersion;
}

/** What a load hook works with. */
export interface HookSettings {
  readonly config: AsyncInterruptStart;
  /** The `file:` URL of this package's code (its dist/, ending in '/'): never instrumented. */
  readonly packageCode: string;
}

/** Whether the module at `url`, of `format`, is the thread's own code (or included). */
export function shouldInstrument(url: string, format: unknown, settings: HookSettings): boolean {
  if (!url.startsWith('file:') || (format !== 'module' && format !== 'commonjs')) return false;
  if (url.startsWith(settings.packageCode) || url.includes('/node_modules/graceful-threads/')) return false;
  const included = settings.config.include.some((entry) =>
    entry.startsWith('file:') ? url.startsWith(entry) : url.includes(entry),
  );
  return included || !url.includes('/node_modules/');
}

/** Source as a load hook may hand it over, as text. */
export function sourceText(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return new TextDecoder().decode(source as Uint8Array);
  }
  return undefined;
}

/**
 * The instrumented `source` of the module at `url`: from the cache when this exact source was
 * instrumented before, else through `tools()` (which loads the parser only then). Source that does
 * not parse comes back unchanged, for Node to report its syntax error at the user's line.
 */
export function instrumentedSource(
  source: string,
  url: string,
  format: 'module' | 'commonjs',
  settings: HookSettings,
  tools: () => TransformTools,
): string {
  const cached = fromCache(source, url, format, settings);
  return cached.code ?? instrumentAndStore(source, url, format, tools(), cached.key);
}

/** The cache's entry for this source, or the key to store it under once instrumented. */
export function fromCache(
  source: string,
  url: string,
  format: 'module' | 'commonjs',
  settings: HookSettings,
): { readonly code?: string; readonly key?: string } {
  if (!settings.config.cache) return {};
  const cache = openCache();
  const key = cache.key(`${version()}\0${url}\0${format}\0${source}`);
  const code = cache.read(key);
  return code === undefined ? { key } : { code };
}

/** Instruments `source`, and stores the result under `key` (from {@link fromCache}) if any. */
export function instrumentAndStore(
  source: string,
  url: string,
  format: 'module' | 'commonjs',
  tools: TransformTools,
  key: string | undefined,
): string {
  let code: string;
  try {
    code = instrument(source, url, format === 'module', tools).code;
  } catch (error) {
    if (error instanceof SyntaxError) return source;
    throw error;
  }
  if (key !== undefined) openCache().write(key, code);
  return code;
}

interface Cache {
  key(text: string): string;
  read(key: string): string | undefined;
  write(key: string, code: string): void;
}

let cache: Cache | undefined;

/** The cache: one file per instrumented module, named by a hash of what produced it. */
function openCache(): Cache {
  if (cache !== undefined) return cache;
  const fs = process.getBuiltinModule('node:fs');
  const { join } = process.getBuiltinModule('node:path');
  const { createHash } = process.getBuiltinModule('node:crypto');
  const os = process.getBuiltinModule('node:os');
  const dir = join(os.tmpdir(), `graceful-threads-${process.getuid?.() ?? 'user'}`, 'async-interrupt');
  let made = false;
  cache = {
    key: (text) => createHash('sha256').update(text).digest('hex'),
    read(key) {
      try {
        return fs.readFileSync(join(dir, `${key}.js`), 'utf8');
      } catch {
        return undefined;
      }
    },
    write(key, code) {
      // Written aside and renamed: a thread reading it meanwhile sees all of it or nothing.
      try {
        if (!made) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        made = true;
        const temporary = join(dir, `${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
        fs.writeFileSync(temporary, code);
        fs.renameSync(temporary, join(dir, `${key}.js`));
      } catch {
        // A cache that cannot be written only costs the next thread the transform.
      }
    },
  };
  return cache;
}
