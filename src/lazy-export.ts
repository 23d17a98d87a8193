/**
 * The stand-ins index.js exports for the public functions of its lazily loaded files (heavy.js,
 * src/lazy.ts; rare.js, src/rare.ts): each loads its file on its first call and calls the
 * function of the same name there. Every function index.js holds costs each thread memory
 * (scripts/build.mjs): the stand-ins are closures of one function, each with its function's
 * name and length.
 */

/** The stand-in of the function `name` of what `load` returns, whose `length` is `length`. */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const lazyExport = (function <Loaded, Name extends keyof Loaded>(
  load: () => Loaded,
  name: Name,
  length: number,
): Loaded[Name] {
  const standIn = function (this: unknown, ...args: unknown[]): unknown {
    return (load()[name] as (...args: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperties(standIn, { name: { value: name }, length: { value: length } });
  return standIn as Loaded[Name];
});
