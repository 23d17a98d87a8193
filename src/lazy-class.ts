/**
 * Stand-ins for the classes of the package's lazily loaded half (src/lazy.ts): each is exported
 * under the class's name and behaves as the class (`new`, `instanceof`, `extends`, statics,
 * `Class.prototype`), loading that half on first use.
 */
import { heavyLoaded } from './lazy.js';

// What a Proxy forwards to the class; the others (isExtensible, preventExtensions,
// setPrototypeOf) stay on the stand-in's own function, whose invariants the engine checks.
const forwarded = [
  'apply',
  'construct',
  'defineProperty',
  'deleteProperty',
  'get',
  'getOwnPropertyDescriptor',
  'getPrototypeOf',
  'has',
  'ownKeys',
  'set',
] as const;

/**
 * A stand-in for the class `load()` returns, loaded on the first use of the stand-in.
 *
 * @example
 * ```ts
 * export const Lock: typeof LockClass = lazyClass('Lock', () => heavy().Lock);
 * export type Lock = LockClass;
 * ```
 */
export function lazyClass<C extends abstract new (...args: never[]) => unknown>(name: string, load: () => C): C {
  let loaded: C | undefined;
  // A plain function, not a class: its `prototype` is writable, so `get` may answer with the
  // class's (a class's own, read-only `prototype` would have to be returned as it is).
  // biome-ignore lint/complexity/useArrowFunction: an arrow has no [[Construct]], so neither would the Proxy
  const stub = { [name]: function () {} }[name]!;
  const real = (): C => {
    if (loaded === undefined) {
      loaded = load();
      // The invariants the engine checks compare with the stub's own `prototype`: make it the
      // class's, read-only as the class's is.
      Object.defineProperty(stub, 'prototype', { value: loaded.prototype, writable: false });
      // And `instance.constructor === Stand-in`: users only ever see the stand-in as the class.
      Object.defineProperty(loaded.prototype, 'constructor', { value: proxy, writable: true, configurable: true });
    }
    return loaded;
  };
  // Before the half has loaded, no instance of its classes can exist in this thread: answering
  // `instanceof` loads nothing.
  const notLoadedYet = (): boolean => false;
  const handler: ProxyHandler<typeof stub> = {};
  for (const trap of forwarded) {
    (handler as Record<string, unknown>)[trap] = (_stub: unknown, ...args: unknown[]) =>
      (Reflect[trap] as (...args: unknown[]) => unknown)(real(), ...args);
  }
  // Where the stand-in itself is the receiver or `new.target`, the class is: its statics and
  // constructor then see the class they were written in.
  const own = (value: unknown): unknown => (value === proxy ? real() : value);
  handler.get = (_stub, key, receiver) => {
    if (key === Symbol.hasInstance && loaded === undefined && !heavyLoaded()) return notLoadedYet;
    return Reflect.get(real(), key, own(receiver));
  };
  handler.set = (_stub, key, value, receiver) => Reflect.set(real(), key, value, own(receiver));
  handler.construct = (_stub, args, newTarget) =>
    Reflect.construct(real(), args, own(newTarget) as new (...args: never) => unknown);
  const proxy = new Proxy(stub, handler) as unknown as C;
  return proxy;
}
