/**
 * The entry module of every thread this library starts: attaches the thread to its slot (by
 * importing the thread state before any user code), runs the target export and reports its
 * outcome on a private port, leaving `parentPort` to the user.
 */
import { describeError } from './error-transfer.js';
import { codedError, endsThreadGracefully } from './errors.js';
import type { OutcomeMessage } from './messages.js';
import { createKeepAlive, moduleFileExists, runtimeName } from './runtime/node.js';
import { readStartData, state } from './thread-state.js';

const start = readStartData();
if (start === undefined) {
  throw new Error('graceful-threads: bootstrap.js runs only as the entry of a Thread.');
}
const { port } = start;

function report(message: OutcomeMessage): void {
  try {
    port.postMessage(message);
  } catch (cause) {
    if (message.type !== 'result') throw cause;
    const error = codedError(
      TypeError,
      'ERR_THREAD_RESULT_NOT_CLONEABLE',
      `The value returned by the thread's target cannot be structured-cloned to the joining thread (${String(cause)}). Return plain data, or share it through a SharedArrayBuffer.`,
    );
    port.postMessage({ type: 'error', error: describeError(error) } satisfies OutcomeMessage);
  }
}

async function loadTarget(href: string, exportName: string): Promise<(...args: unknown[]) => unknown> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && !moduleFileExists(href)) {
      throw codedError(
        Error,
        'ERR_THREAD_MODULE_NOT_FOUND',
        `Cannot find the thread's module ${href}. Pass an absolute path, a path starting with ./ or ../ (relative to the working directory), or a URL such as new URL('./worker.js', import.meta.url).`,
        error,
      );
    }
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(href)) {
      throw codedError(
        TypeError,
        'ERR_THREAD_TYPESCRIPT_UNSUPPORTED',
        `Cannot load the TypeScript module ${href} in a thread: ${runtimeName} has no TypeScript loader in worker threads. Run on Node.js 22.6 or newer with tsx (node --import tsx) or Node's type stripping, or compile the target to JavaScript.`,
        error,
      );
    }
    throw error;
  }
  if (!(exportName in namespace)) {
    const names = Object.keys(namespace).join(', ') || '(none)';
    throw codedError(
      TypeError,
      'ERR_THREAD_EXPORT_NOT_FOUND',
      `The module ${href} has no export named "${exportName}"; its exports are: ${names}. Set the "export" option to the function the thread should run.`,
    );
  }
  const target = namespace[exportName];
  if (typeof target !== 'function') {
    throw codedError(
      TypeError,
      'ERR_THREAD_EXPORT_NOT_FUNCTION',
      `The export "${exportName}" of ${href} is ${target === null ? 'null' : `of type ${typeof target}`}, not a function. A thread runs a function: export one and name it in the "export" option.`,
    );
  }
  return target as (...args: unknown[]) => unknown;
}

const keepAlive = createKeepAlive();
state.targetKeepAlive = keepAlive;
try {
  const target = await loadTarget(start.moduleHref, start.exportName);
  report({ type: 'result', value: await target(...start.args) });
} catch (error) {
  report(endsThreadGracefully(error) ? { type: 'interrupted' } : { type: 'error', error: describeError(error) });
} finally {
  state.targetKeepAlive = undefined;
  keepAlive.close();
}
