/**
 * What `asyncInterrupt` needs of the runtime, checked in the thread that starts an opted-in
 * thread: Node's module hooks, and the transform's optional peer dependencies beside this
 * package. (Its browser twin, ./browser-hooks.ts, says browsers have neither.)
 */

/** Why asynchronous interruption cannot be set up here, or undefined when it can. */
export function asyncInterruptUnavailable(): string | undefined {
  // Bun and Deno run the Node build, but load modules their own way.
  const { versions } = process as { versions: Record<string, string | undefined> };
  if (versions.bun !== undefined || versions.deno !== undefined) {
    return `The asyncInterrupt option instruments a thread's modules through Node.js's module hooks, which ${versions.bun !== undefined ? 'Bun does not have' : "Deno's do not reach a worker's modules as Node's do"}. Poll with checkInterrupt() or interruptionRequested() instead, or run on Node.js.`;
  }
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  const missing = ['acorn', 'magic-string'].filter((name) => {
    try {
      require.resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length === 0
    ? undefined
    : `The asyncInterrupt option instruments the thread's code with acorn and magic-string, optional peer dependencies of graceful-threads that are not installed (${missing.join(', ')} missing). Run: npm install acorn magic-string`;
}
