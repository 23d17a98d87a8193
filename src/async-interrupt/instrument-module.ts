/**
 * Decides which modules a thread's load hook instruments, and instruments them through a cache
 * keyed by content. Shared by the in-thread hook (./install.ts, `module.registerHooks`) and the
 * hooks thread of `module.register` (./hooks.ts, Node 20).
 */
import type { MessagePort } from 'node:worker_threads';
import { CHUNK, SMALL_TRIP_COUNT } from './check.js';
import type { AsyncInterruptStart } from './options.js';
import { type UnparsableModule, unparsableModule } from './syntax-errors.js';
import { instrument, type TransformTools } from './transform.js';

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
  /** Hears of each module the parser could not parse (Node 20's hooks thread: over this port). */
  readonly unparsable?: MessagePort;
}

/** Told where the parser stopped in a module it could not parse. */
export type OnUnparsable = (where: UnparsableModule) => void;

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
  onUnparsable?: OnUnparsable,
): string {
  const cached = fromCache(source, url, format, settings);
  return cached.code ?? instrumentAndStore(source, url, format, tools(), cached.key, onUnparsable);
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
  onUnparsable?: OnUnparsable,
): string {
  let code: string;
  try {
    code = instrument(source, url, format === 'module', tools).code;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Handed on unchanged: Node's parser decides (it may know syntax this parser does not),
    // and its error gets the place this one found (./syntax-errors.ts).
    const where = unparsableModule(error, url, source);
    if (where !== undefined) onUnparsable?.(where);
    return source;
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

/**
 * What a cache file starts with: a marker and the length of the code after it, so that a file
 * cut short (a crash between the data and the rename reaching the disk) reads as a miss.
 */
const HEADER = 'graceful-threads-cache ';

/**
 * The cache: one file per instrumented module, named by a hash of what produced it. Its
 * directory has a predictable name in a temporary directory others can write to: one that is not
 * this user's own, private directory (another user made it first) is not used at all, else
 * whoever owns it chooses the code this thread runs.
 */
function openCache(): Cache {
  if (cache !== undefined) return cache;
  const fs = process.getBuiltinModule('node:fs');
  const { join } = process.getBuiltinModule('node:path');
  const { createHash } = process.getBuiltinModule('node:crypto');
  const os = process.getBuiltinModule('node:os');
  const root = join(os.tmpdir(), `graceful-threads-${process.getuid?.() ?? 'user'}`);
  const dir = join(root, 'async-interrupt');
  let usable: boolean | undefined;
  const ready = (): boolean => {
    if (usable !== undefined) return usable;
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      usable = [root, dir].every((path) => isPrivateDirectory(fs.lstatSync(path)));
    } catch {
      usable = false;
    }
    return usable;
  };
  cache = {
    key: (text) => createHash('sha256').update(text).digest('hex'),
    read(key) {
      if (!ready()) return undefined;
      let text: string;
      try {
        text = fs.readFileSync(join(dir, `${key}.js`), 'utf8');
      } catch {
        return undefined;
      }
      const newline = text.indexOf('\n');
      if (!text.startsWith(HEADER) || newline < 0) return undefined;
      const code = text.slice(newline + 1);
      return text.slice(HEADER.length, newline) === String(code.length) ? code : undefined;
    },
    write(key, code) {
      // Written aside and renamed: a thread reading it meanwhile sees all of it or nothing.
      if (!ready()) return;
      const temporary = join(dir, `${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
      try {
        fs.writeFileSync(temporary, `${HEADER}${code.length}\n${code}`, { mode: 0o600 });
        fs.renameSync(temporary, join(dir, `${key}.js`));
      } catch {
        // A cache that cannot be written only costs the next thread the transform.
        fs.rm(temporary, { force: true }, () => {});
      }
    },
  };
  return cache;
}

/** A real directory (no link), this user's, that nobody else may write to. */
function isPrivateDirectory(stats: import('node:fs').Stats): boolean {
  if (!stats.isDirectory() || stats.isSymbolicLink()) return false;
  const uid = process.getuid?.();
  // Windows has no uid, and a temporary directory of each user's own.
  return uid === undefined || (stats.uid === uid && (stats.mode & 0o022) === 0);
}
