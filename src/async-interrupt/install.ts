/**
 * Installed by the bootstrap of a thread started with `asyncInterrupt`, before its target loads
 * (dist/async-interrupt/install.js: a thread without the option never loads it, nor the parser).
 * Defines the two globals the inserted checks read, and the load hook that instruments the
 * thread's modules: in the thread itself with `module.registerHooks` (Node 22.15+, 23.5+), or,
 * where that does not exist (Node 20), on a hooks thread of this thread's own with
 * `module.register` (./hooks.ts).
 */
import { FLAG_GLOBAL, TRAP_GLOBAL } from './check.js';
import { type HookSettings, instrumentedSource, shouldInstrument, sourceText } from './instrument-module.js';
import type { AsyncInterruptStart } from './options.js';
import { locateSyntaxError, type UnparsableModule } from './syntax-errors.js';
import type { TransformTools } from './transform.js';

/** The load hook of `module.registerHooks` (not in the typings of Node 20). */
type SyncLoadHook = (
  url: string,
  context: { format?: string | null | undefined },
  nextLoad: (url: string, context: object) => { format?: string | null | undefined; source?: unknown },
) => { format?: string | null | undefined; source?: unknown };

/**
 * Sets up asynchronous interruption in the calling thread. `flag` views the thread's flag word
 * alone (index 0, bit 0 set while an interrupt is requested); `trap` throws it where allowed.
 *
 * @returns what marks the SyntaxError of the thread's failure to load its target with where
 *   the parser last stopped in a module it could not parse (./syntax-errors.ts).
 */
export function installAsyncInterrupt(
  config: AsyncInterruptStart,
  flag: Int32Array,
  trap: () => void,
): (error: unknown) => void {
  // Global constants, not module-level ones: an unqualified global that is a read-only,
  // non-configurable property is a constant to V8's optimizing compilers, and so is the
  // length and data pointer of that typed array: the check compiles to one load and a test.
  Object.defineProperty(globalThis, FLAG_GLOBAL, { value: flag, writable: false, configurable: false });
  Object.defineProperty(globalThis, TRAP_GLOBAL, { value: trap, writable: false, configurable: false });
  // Stack traces through instrumented code point at the user's columns too (lines never move).
  process.setSourceMapsEnabled(true);
  // dist/ (or src/, running from the sources): the package's own code.
  const settings: HookSettings = { config, packageCode: new URL('..', import.meta.url).href };
  const module = process.getBuiltinModule('node:module') as typeof import('node:module') & {
    registerHooks?: (hooks: { load: SyncLoadHook }) => unknown;
  };
  let unparsable: UnparsableModule | undefined;
  if (typeof module.registerHooks === 'function') {
    let tools: TransformTools | undefined;
    const loadTools = (): TransformTools => {
      if (tools === undefined) {
        const require = module.createRequire(import.meta.url);
        const acorn = require('acorn') as typeof import('acorn');
        const magic = require('magic-string') as { default: TransformTools['MagicString'] };
        tools = { parse: acorn.parse, MagicString: magic.default };
      }
      return tools;
    };
    module.registerHooks({
      load(url, context, nextLoad) {
        const result = nextLoad(url, context);
        const format = result.format ?? context.format;
        if (!shouldInstrument(url, format, settings)) return result;
        const source = sourceText(result.source);
        if (source === undefined) return result;
        return {
          ...result,
          source: instrumentedSource(source, url, format as 'module' | 'commonjs', settings, loadTools, (where) => {
            unparsable = where;
          }),
        };
      },
    });
    return (error) => locateSyntaxError(error, unparsable);
  }
  // Node 20: the hooks run on a thread of their own, and post what did not parse back here;
  // read at once when asked (it was posted before the load that failed returned).
  const { MessageChannel, receiveMessageOnPort } = process.getBuiltinModule('node:worker_threads');
  const channel = new MessageChannel();
  channel.port1.unref();
  module.register(new URL('./hooks.js', import.meta.url), {
    data: { ...settings, unparsable: channel.port2 },
    transferList: [channel.port2],
  });
  return (error) => {
    for (let message = receiveMessageOnPort(channel.port1); message !== undefined; ) {
      unparsable = message.message as UnparsableModule;
      message = receiveMessageOnPort(channel.port1);
    }
    locateSyntaxError(error, unparsable);
  };
}

/** @internal For bench/async-interrupt.js: the transform's cost per MB, and the cache's. */
export { instrumentedSource } from './instrument-module.js';
/** @internal */
export { instrument } from './transform.js';
