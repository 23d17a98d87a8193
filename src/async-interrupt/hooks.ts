/**
 * The load hook of `module.register` (Node 20, which has no `module.registerHooks`): runs on the
 * hooks thread Node starts for the thread that registered it, and instruments that thread's
 * modules.
 */
import type { LoadHook } from 'node:module';
import { fromCache, type HookSettings, instrumentAndStore, shouldInstrument, sourceText } from './instrument-module.js';
import type { TransformTools } from './transform.js';

let settings: HookSettings | undefined;
let tools: TransformTools | undefined;

/** Receives the `data` given to `module.register`. */
export function initialize(data: HookSettings): void {
  settings = data;
}

export const load: LoadHook = async (url, context, nextLoad) => {
  const result = await nextLoad(url, context);
  const format = result.format ?? context.format;
  if (settings === undefined || !shouldInstrument(url, format, settings)) return result;
  // Node 20 hands no source of a CommonJS module over: read, it is used for that module, and its
  // require() calls come back through this hook.
  const source =
    sourceText(result.source) ??
    (format === 'commonjs' ? process.getBuiltinModule('node:fs').readFileSync(new URL(url), 'utf8') : undefined);
  if (source === undefined) return result;
  const kind = format as 'module' | 'commonjs';
  const cached = fromCache(source, url, kind, settings);
  if (cached.code !== undefined) return { ...result, source: cached.code };
  // The parser loads on the first miss only: a thread whose modules are all cached never loads it.
  if (tools === undefined) {
    const [acorn, magic] = await Promise.all([import('acorn'), import('magic-string')]);
    tools = { parse: acorn.parse, MagicString: magic.default };
  }
  const code = instrumentAndStore(source, url, kind, tools, cached.key, (where) =>
    settings?.unparsable?.postMessage(where),
  );
  return { ...result, source: code };
};
