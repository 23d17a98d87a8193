/**
 * Stand-ins for the classes of the package's lazily loaded half (src/lazy.ts): each is exported
 * under the class's name and behaves as the class (`new`, `instanceof`, `extends`, statics,
 * `Class.prototype`), loading that half on first use.
 */
import { heavy, heavyLoaded } from './lazy.js';

// What a Proxy forwards to the class; the others (isExtensible, preventExtensions,
// setPrototypeOf) stay on the stand-in's own function, whose invariants the engine checks. The
// last three take a receiver or `new.target` last.
const forwarded = [
  'apply',
  'defineProperty',
  'deleteProperty',
  'getOwnPropertyDescriptor',
  'getPrototypeOf',
  'has',
  'ownKeys',
  'get',
  'set',
  'construct',
] as const;

type AnyClass = abstract new (...args: never[]) => unknown;

/** What each stand-in's Proxy target (its stub function) stands for. */
interface StandIn {
  /** The class's export name in the lazily loaded half. */
  readonly name: ClassName;
  loaded: AnyClass | undefined;
  proxy: unknown;
}

// One handler for every stand-in, which finds its class through the Proxy's target: every thread
// makes the package's seven stand-ins as it loads, and per-stand-in closures cost it 100-130 us.
const standIns = new WeakMap<object, StandIn>();

function real(stub: object): AnyClass {
  const standIn = standIns.get(stub)!;
  if (standIn.loaded === undefined) {
    const loaded = heavy()[standIn.name] as AnyClass;
    standIn.loaded = loaded;
    // The invariants the engine checks compare with the stub's own `prototype`: make it the
    // class's, read-only as the class's is.
    Object.defineProperty(stub, 'prototype', { value: loaded.prototype, writable: false });
    // And `instance.constructor === Stand-in`: users only ever see the stand-in as the class.
    Object.defineProperty(loaded.prototype, 'constructor', {
      value: standIn.proxy,
      writable: true,
      configurable: true,
    });
  }
  return standIn.loaded;
}

// Every trap is a closure of one function: each function index.js holds costs every thread
// memory (scripts/build.mjs).
const handler: ProxyHandler<object> = {};
for (const trap of forwarded) {
  const takesReceiver = trap === 'get' || trap === 'set' || trap === 'construct';
  (handler as Record<string, unknown>)[trap] = (stub: object, ...args: unknown[]) => {
    const standIn = standIns.get(stub)!;
    // Before the half has loaded, no instance of its classes can exist in this thread: answering
    // `instanceof` loads nothing. heavyLoaded() is such an answer: false until it has loaded.
    if (trap === 'get' && args[0] === Symbol.hasInstance && standIn.loaded === undefined && !heavyLoaded())
      return heavyLoaded;
    const loaded = real(stub);
    // Where the stand-in itself is the receiver or `new.target`, the class is: its statics and
    // constructor then see the class they were written in.
    if (takesReceiver && args.at(-1) === standIn.proxy) args[args.length - 1] = loaded;
    return (Reflect[trap] as (...args: unknown[]) => unknown)(loaded, ...args);
  };
}

/** The exports of the lazily loaded half that are classes. */
type ClassName = {
  [K in keyof ReturnType<typeof heavy>]: ReturnType<typeof heavy>[K] extends AnyClass ? K : never;
}[keyof ReturnType<typeof heavy>];

/**
 * A stand-in for the lazily loaded half's class `name`, loaded on the first use of the stand-in.
 * By name, not through a function per class: each function is one more that every thread
 * compiles as it loads the package.
 *
 * @example
 * ```ts
 * export const Lock: typeof LockClass = lazyClass('Lock');
 * export type Lock = LockClass;
 * ```
 */
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
export const lazyClass = (function <N extends ClassName>(name: N): ReturnType<typeof heavy>[N] {
  // A plain function, not a class: its `prototype` is writable, so `get` may answer with the
  // class's (a class's own, read-only `prototype` would have to be returned as it is).
  // biome-ignore lint/complexity/useArrowFunction: an arrow has no [[Construct]], so neither would the Proxy
  const stub = { [name]: function () {} }[name]!;
  const proxy = new Proxy(stub, handler);
  standIns.set(stub, { name, loaded: undefined, proxy });
  return proxy as unknown as ReturnType<typeof heavy>[N];
});
