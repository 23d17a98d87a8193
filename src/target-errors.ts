/**
 * The errors of a thread whose target cannot be loaded, is no function or returns what cannot be
 * cloned, with what to do about them. Part of rare.js (src/rare.ts): a thread whose target loads
 * and returns plain data does not load them.
 */
import { codedError } from './coded-errors.js';
import { heavy } from './lazy.js';
import { moduleFileExists, runtimeName } from './runtime/node.js';

function notFoundMessage(href: string): string {
  // A .ts target named by the .js it would compile to, as TypeScript imports are written: tsx
  // maps that .js to the .ts file (where it reaches threads), Node's type stripping does not.
  const typescript = href.replace(/\.([cm]?)js$/, '.$1ts');
  if (typescript !== href && moduleFileExists(typescript)) {
    return `Cannot find the thread's module ${href}, but ${typescript} exists. Point the thread at the .ts file and load it with a TypeScript loader (tsx on Node.js 22.22.3, 24.11.1 or newer, or Node's type stripping), or compile the target to JavaScript first.`;
  }
  return `Cannot find the thread's module ${href}. Pass an absolute path, a path starting with ./ or ../ (relative to the working directory), or a URL such as new URL('./worker.js', import.meta.url).`;
}

/** @internal What a thread throws when its target's module `href` failed to load with `error`. */
export function targetLoadError(href: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' && !moduleFileExists(href)) {
    return codedError(Error, 'ERR_THREAD_MODULE_NOT_FOUND', notFoundMessage(href), error);
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(href)) {
    return codedError(
      TypeError,
      'ERR_THREAD_TYPESCRIPT_UNSUPPORTED',
      `Cannot load the TypeScript module ${href} in a thread: ${runtimeName} has no TypeScript loader in worker threads. Run on Node.js 22.22.3, 24.11.1 or newer with tsx (node --import tsx), or with Node's type stripping (22.18 and newer), or compile the target to JavaScript.`,
      error,
    );
  }
  return error;
}

/** @internal What a thread throws when the module `href` has no function named `exportName`. */
export function targetExportError(href: string, exportName: string, namespace: Record<string, unknown>): TypeError {
  if (!(exportName in namespace)) {
    const names = Object.keys(namespace).join(', ') || '(none)';
    return codedError(
      TypeError,
      'ERR_THREAD_EXPORT_NOT_FOUND',
      `The module ${href} has no export named "${exportName}"; its exports are: ${names}. Set the "export" option to the function the thread should run.`,
    );
  }
  const target = namespace[exportName];
  return codedError(
    TypeError,
    'ERR_THREAD_EXPORT_NOT_FUNCTION',
    `The export "${exportName}" of ${href} is ${target === null ? 'null' : `of type ${typeof target}`}, not a function. A thread runs a function: export one and name it in the "export" option.`,
  );
}

/** @internal What a thread reports when its target's result cannot be cloned (`cause`). */
export function resultNotCloneableError(cause: unknown): TypeError {
  return codedError(
    TypeError,
    'ERR_THREAD_RESULT_NOT_CLONEABLE',
    `The value returned by the thread's target cannot be structured-cloned to the joining thread (${heavy().thrownText(cause)}). Return plain data, or share it through a SharedArrayBuffer.`,
    cause,
  );
}
