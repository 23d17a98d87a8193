/**
 * The stand-ins index.js exports for the public functions of rare.js (src/rare.ts): each loads
 * it on its first call and calls the function of the same name. Every function a thread's
 * index.js holds costs it memory (scripts/build.mjs): the stand-ins are closures of one
 * function, and each takes its function's name and length.
 */
import { rare } from './lazy-rare.js';

type Rare = ReturnType<typeof rare>;

/** The stand-in of rare.js's function `name`, whose `length` is `length`. */
export function rareExport<Name extends keyof Rare>(name: Name, length: number): Rare[Name] {
  const standIn = function (this: unknown, ...args: unknown[]): unknown {
    return (rare()[name] as (...args: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperties(standIn, { name: { value: name }, length: { value: length } });
  return standIn as Rare[Name];
}
