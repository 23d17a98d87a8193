/**
 * Errors thrown by a thread's target reach `join()` in another thread. Structured clone keeps
 * only a built-in error's name, message and stack; this keeps its class name, `code`, other own
 * data properties and `cause` too.
 */
import { ThreadInterruptedError } from './errors.js';

/** An error (or any thrown value) in a form that can be posted to another thread. */
export type TransferredError =
  | { readonly kind: 'value'; readonly value: unknown }
  | {
      readonly kind: 'error';
      readonly className: string;
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      readonly props: Readonly<Record<string, unknown>>;
      readonly cause?: TransferredError;
    };

const builtins: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Describes a thrown value so that {@link rebuildError} can recreate it in another thread. */
export function describeError(thrown: unknown, depth = 0): TransferredError {
  if (!(thrown instanceof Error)) {
    return { kind: 'value', value: isCloneable(thrown) ? thrown : String(thrown) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'cause' || key === 'stack' || key === 'message') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (isCloneable(value)) props[key] = value;
  }
  const described: TransferredError = {
    kind: 'error',
    className: thrown.constructor?.name || 'Error',
    name: String(thrown.name),
    message: String(thrown.message),
    stack: thrown.stack,
    props,
  };
  if (thrown.cause === undefined || depth >= 8) return described;
  return { ...described, cause: describeError(thrown.cause, depth + 1) };
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

/** Recreates a value described by {@link describeError}. */
export function rebuildError(described: TransferredError): unknown {
  if (described.kind === 'value') return described.value;
  let error: Error;
  if (described.className === 'ThreadInterruptedError') {
    error = new ThreadInterruptedError(described.props.reason);
    error.message = described.message;
  } else {
    const base = builtins[described.className] ?? builtins[described.name] ?? Error;
    const cls = base.name === described.className ? base : classNamed(described.className, base);
    error = Reflect.construct(base, [described.message], cls) as Error;
    if (error.name !== described.name) {
      Object.defineProperty(error, 'name', { value: described.name, writable: true, configurable: true });
    }
  }
  for (const [key, value] of Object.entries(described.props)) {
    if (key === 'reason' && error instanceof ThreadInterruptedError) continue;
    Object.defineProperty(error, key, { value, writable: true, enumerable: true, configurable: true });
  }
  Object.defineProperty(error, 'stack', { value: described.stack, writable: true, configurable: true });
  if (described.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: rebuildError(described.cause),
      writable: true,
      configurable: true,
    });
  }
  return error;
}
