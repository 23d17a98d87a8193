/**
 * Errors thrown by a thread's target reach `join()` in another thread. Structured clone keeps only
 * a built-in error's name, message, stack and cause; this keeps the class (a built-in one, including
 * `AggregateError` with its `errors` and `DOMException` with its name and code, or the name of a
 * custom class over the nearest built-in), `code` and every other own property that can be cloned,
 * enumerable or not, and `cause`, nested errors described the same way.
 *
 * Describing never throws, whatever was thrown (a throwing getter, a revoked proxy, a cyclic
 * cause): what cannot be read is left out, so that `join()` always reports the target's own
 * failure. A thrown value that is not an error arrives as structured clone gives it; one that
 * cannot be cloned (a function, a symbol, an object holding one) arrives as a string describing it,
 * as `util.inspect` would.
 */
import { isThreadInterruptedError, ThreadInterruptedError } from './errors.js';
import { inspectValue } from './runtime/node-codec.js';

/** A thrown value, error, or property value of one, in a form that can be posted to another thread. */
export type TransferredError =
  /** Structured-cloned already, or a string standing in for a value that cannot be cloned. */
  | { readonly kind: 'value'; readonly value: unknown }
  /** An array holding errors (an `AggregateError`'s `errors`). */
  | { readonly kind: 'list'; readonly items: readonly TransferredError[] }
  /** An error described earlier in the same description (a cycle, or one error in two places). */
  | { readonly kind: 'ref'; readonly id: number }
  | DescribedError;

/** An error, as {@link describeError} describes it. */
export interface DescribedError {
  readonly kind: 'error';
  /** Its index among the errors of the description, for `ref`s to it. */
  readonly id: number;
  /** The built-in class it is rebuilt from: the nearest in its prototype chain. */
  readonly base: string;
  /** The name of its own class, when a subclass of `base`. */
  readonly className: string;
  readonly name: string;
  readonly message: string | undefined;
  readonly stack: string | undefined;
  /** Own properties other than `message`, `stack` and `cause`. */
  readonly props: readonly DescribedProperty[];
  readonly cause?: TransferredError;
}

/** An own property of a described error. */
export interface DescribedProperty {
  readonly key: string;
  readonly enumerable: boolean;
  readonly value: TransferredError;
}

const builtins = new Map<string, ErrorConstructor>();
for (const name of [
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'SuppressedError', // Node 24 and newer
  'DOMException',
]) {
  const cls = (globalThis as Record<string, unknown>)[name];
  if (typeof cls === 'function') builtins.set(name, cls as ErrorConstructor);
}

// Deeper nesting (a chain of causes, errors in errors) is kept as structured clone keeps it, so
// that describing and rebuilding recurse a bounded number of times.
const MAX_DEPTH = 64;

interface Context {
  readonly ids: Map<object, number>;
}

/** Runs `read`, or returns undefined if it throws: a getter, a proxy trap, a revoked proxy. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const domName = attempt(() => Object.getOwnPropertyDescriptor(DOMException.prototype, 'name')?.get);

function isDomException(value: object): boolean {
  const get = domName;
  if (get === undefined) return false;
  // A brand check: the getter throws for anything but a real DOMException.
  return attempt(() => typeof get.call(value) === 'string') ?? false;
}

function isError(value: unknown): value is Error {
  if (typeof value !== 'object' || value === null) return false;
  return attempt(() => value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') ?? false;
}

function cloneOf(value: unknown): { readonly value: unknown } | undefined {
  return attempt(() => ({ value: structuredClone(value) }));
}

/** The value as structured clone gives it, or, when it cannot be cloned, a string describing it. */
function clonedValue(value: unknown): TransferredError {
  const clone = cloneOf(value);
  return { kind: 'value', value: clone === undefined ? inspectValue(value) : clone.value };
}

/** The name of the function in the prototype's own `constructor`, read without running getters. */
function constructorName(proto: object): string | undefined {
  const ctor = attempt(() => Object.getOwnPropertyDescriptor(proto, 'constructor')?.value) as unknown;
  if (typeof ctor !== 'function') return undefined;
  const name = attempt(() => Object.getOwnPropertyDescriptor(ctor, 'name')?.value) as unknown;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The nearest built-in class in the error's prototype chain, and its own class's name. */
function classOf(error: object): { base: string; className: string | undefined } {
  if (isThreadInterruptedError(error)) return { base: 'ThreadInterruptedError', className: undefined };
  let className: string | undefined;
  let proto = attempt(() => Object.getPrototypeOf(error) as object | null);
  for (let step = 0; proto !== null && proto !== undefined && step < 100; step++) {
    const name = constructorName(proto);
    className ??= name;
    // Matched by name, so an error from another realm (a `vm` context) keeps its class too.
    if (name !== undefined && builtins.has(name) && (name !== 'DOMException' || isDomException(error))) {
      return { base: name, className };
    }
    proto = attempt(() => Object.getPrototypeOf(proto) as object | null);
  }
  return { base: 'Error', className };
}

function ownStringKeys(value: object): string[] {
  return attempt(() => Object.getOwnPropertyNames(value)) ?? [];
}

/** Reads an own property: a data property's value, or what its getter returns. */
function readOwn(target: object, key: string): { value: unknown; enumerable: boolean } | undefined {
  const descriptor = attempt(() => Object.getOwnPropertyDescriptor(target, key));
  if (descriptor === undefined) return undefined;
  if ('value' in descriptor) return { value: descriptor.value, enumerable: descriptor.enumerable === true };
  const get = descriptor.get;
  if (get === undefined) return undefined;
  const read = attempt(() => ({ value: get.call(target) as unknown }));
  return read === undefined ? undefined : { value: read.value, enumerable: descriptor.enumerable === true };
}

function readString(read: () => unknown): string | undefined {
  return attempt(() => {
    const value = read();
    return value === undefined ? undefined : String(value);
  });
}

/** A property's value: errors (and arrays of errors) described, the rest cloned or left out. */
function describeProperty(value: unknown, context: Context, depth: number): TransferredError | undefined {
  if (depth < MAX_DEPTH) {
    if (isError(value)) return describeObject(value, context, depth);
    if (attempt(() => Array.isArray(value) && value.some(isError))) {
      const items = attempt(() => Array.from(value as unknown[], (item) => describeAny(item, context, depth)));
      if (items !== undefined) return { kind: 'list', items };
    }
  }
  const clone = cloneOf(value);
  return clone === undefined ? undefined : { kind: 'value', value: clone.value };
}

function describeAny(value: unknown, context: Context, depth: number): TransferredError {
  return depth < MAX_DEPTH && isError(value) ? describeObject(value, context, depth) : clonedValue(value);
}

function describeObject(error: Error, context: Context, depth: number): TransferredError {
  const seen = context.ids.get(error);
  if (seen !== undefined) return { kind: 'ref', id: seen };
  const id = context.ids.size;
  context.ids.set(error, id);
  const { base, className } = classOf(error);
  const props: DescribedProperty[] = [];
  for (const key of ownStringKeys(error)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    const own = readOwn(error, key);
    const value = own === undefined ? undefined : describeProperty(own.value, context, depth + 1);
    if (own !== undefined && value !== undefined) props.push({ key, enumerable: own.enumerable, value });
  }
  const stack = attempt(() => error.stack) as unknown;
  const described: DescribedError = {
    kind: 'error',
    id,
    base,
    className: className ?? base,
    name: readString(() => error.name) ?? base,
    message: readString(() => error.message),
    stack: typeof stack === 'string' ? stack : undefined,
    props,
  };
  const cause = readOwn(error, 'cause');
  if (cause === undefined) return described;
  const value = describeProperty(cause.value, context, depth + 1) ?? {
    kind: 'value',
    value: inspectValue(cause.value),
  };
  return { ...described, cause: value };
}

/**
 * Describes a thrown value so that {@link rebuildError} can recreate it in another thread. Never
 * throws; the description can always be structured-cloned.
 *
 * @example
 * ```ts
 * port.postMessage({ type: 'error', error: describeError(thrown) });
 * ```
 */
export function describeError(thrown: unknown): TransferredError {
  try {
    return describeAny(thrown, { ids: new Map() }, 0);
  } catch {
    // Not expected (every read above is guarded); a stack overflow, say.
    return { kind: 'value', value: inspectValue(thrown) };
  }
}

/**
 * A thrown value as text, for a message: `String(value)`, or, when that throws (an object without
 * a prototype, a revoked proxy), a description of it. Never throws.
 *
 * @example
 * ```ts
 * `cannot be cloned (${thrownText(cause)})`;
 * ```
 */
export function thrownText(value: unknown): string {
  return attempt(() => String(value)) ?? inspectValue(value);
}

const classes = new Map<string, ErrorConstructor>();

// A class with the original's name, so `error.constructor.name` reads as it did in the thread.
function classNamed(name: string, base: ErrorConstructor): ErrorConstructor {
  const key = `${base.name}:${name}`;
  let cls = classes.get(key);
  if (cls === undefined) {
    cls = class extends base {} as ErrorConstructor;
    Object.defineProperty(cls, 'name', { value: name });
    classes.set(key, cls);
  }
  return cls;
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  try {
    Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
  } catch {
    // A property the constructor made non-configurable keeps the constructor's value.
  }
}

function construct(described: DescribedError, built: unknown[]): Error {
  const { base, className, message } = described;
  if (base === 'ThreadInterruptedError') {
    const reason = described.props.find((prop) => prop.key === 'reason');
    return new ThreadInterruptedError(reason === undefined ? undefined : rebuild(reason.value, built));
  }
  const Base = builtins.get(base) ?? Error;
  const cls = className === Base.name ? Base : classNamed(className, Base);
  const text = message ?? '';
  // `errors`, `error` and `suppressed` are set with the other own properties.
  if (base === 'AggregateError') return Reflect.construct(Base, [[], text], cls) as Error;
  if (base === 'SuppressedError') return Reflect.construct(Base, [undefined, undefined, text], cls) as Error;
  if (base === 'DOMException') return Reflect.construct(Base, [text, described.name], cls) as Error;
  return Reflect.construct(Base, message === undefined ? [] : [message], cls) as Error;
}

function rebuildObject(described: DescribedError, built: unknown[]): Error {
  let error: Error;
  try {
    error = construct(described, built);
  } catch {
    error = new Error(described.message);
  }
  built[described.id] = error;
  if (attempt(() => error.name) !== described.name) define(error, 'name', described.name, false);
  if (described.message !== undefined && attempt(() => error.message) !== described.message) {
    define(error, 'message', described.message, false);
  }
  for (const { key, value, enumerable } of described.props) define(error, key, rebuild(value, built), enumerable);
  define(error, 'stack', described.stack, false);
  if (described.cause !== undefined) define(error, 'cause', rebuild(described.cause, built), false);
  return error;
}

function rebuild(described: TransferredError, built: unknown[]): unknown {
  switch (described.kind) {
    case 'value':
      return described.value;
    case 'list':
      return described.items.map((item) => rebuild(item, built));
    case 'ref':
      return built[described.id];
    case 'error':
      // Built already when a ThreadInterruptedError's constructor needed its reason first.
      return built[described.id] ?? rebuildObject(described, built);
  }
}

/**
 * Recreates a value described by {@link describeError}: an error of the same class (a subclass of
 * the same name over the built-in one for a custom class), with the same own properties.
 *
 * @example
 * ```ts
 * const error = rebuildError(message.error); // what the thread threw
 * ```
 */
export function rebuildError(described: TransferredError): unknown {
  // The stack is the thread's, set from what it sent. Frames V8 would capture here keep their
  // receivers alive (the handle of the thread that failed) until the stack is formatted, which
  // never happens once it is replaced: that handle could never be collected.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return rebuild(described, []);
  } catch {
    // Not expected (each step above is guarded): the message and stack at least.
    const error = new Error(described.kind === 'error' ? described.message : undefined);
    if (described.kind === 'error') define(error, 'stack', described.stack, false);
    return described.kind === 'value' ? described.value : error;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
