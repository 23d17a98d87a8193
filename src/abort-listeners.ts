/**
 * Counts what listens to a signal's `'abort'` event, so that the thread's interruption signal
 * keeps the thread alive only while an operation is waiting for it. No runtime offers a listener
 * count with change notifications, so the signal's own `addEventListener`, `removeEventListener`
 * and `onabort` are shadowed by counting wrappers that call the originals. Node's APIs (timers,
 * events, streams, fetch) and user code all register through these properties.
 */

/** A live view of whether anything listens to a signal's `'abort'` event. */
export interface AbortListeners {
  /** True while at least one `'abort'` listener (or an `onabort` handler) is registered. */
  readonly listening: boolean;
}

// What the DOM accepts (its own types are not in this project's lib): a function or an object.
type Listener = object;
type ListenerOptions = boolean | { readonly capture?: unknown; readonly signal?: AbortSignal } | null | undefined;

// Registration bits per listener: the DOM keys a registration by (listener, capture).
const NORMAL = 1;
const CAPTURE = 2;

/**
 * Starts counting the `'abort'` listeners of `signal`, calling `onChange` whenever the answer of
 * `listening` flips. Must run before anyone else sees the signal.
 *
 * Not counted: listeners Node registers as weak (the cleanup an `addEventListener(…, { signal })`
 * puts on its `signal`), which wait for nothing; and listeners on a signal derived with
 * `AbortSignal.any()`, which links to its sources without listening to them.
 */
export function trackAbortListeners(signal: AbortSignal, onChange: () => void): AbortListeners {
  const add = signal.addEventListener;
  const remove = signal.removeEventListener;
  const handlerProperty = findAccessor(signal, 'onabort');
  const registered = new Map<Listener, number>();
  let count = 0;
  let handlerSet = false;
  // True while the `onabort` setter runs: Node's setter registers its wrapper through
  // addEventListener on first use, and that wrapper must not count as a listener of its own.
  let inHandlerSetter = false;

  const setCount = (next: number): void => {
    const was = count > 0;
    count = next;
    if (was !== count > 0) onChange();
  };

  Object.defineProperties(signal, {
    addEventListener: {
      configurable: true,
      writable: true,
      value(this: AbortSignal, type: string, listener: Listener | null, options?: ListenerOptions): void {
        Reflect.apply(add, this, [type, listener, options]);
        if (inHandlerSetter || this !== signal || !isAbortType(type) || !isListener(listener)) return;
        if (typeof options === 'object' && options !== null) {
          if (options.signal?.aborted === true || isWeak(options)) return;
        }
        const bit = addedWithCapture(options) ? CAPTURE : NORMAL;
        const bits = registered.get(listener) ?? 0;
        if ((bits & bit) !== 0) return; // a duplicate, which the DOM ignores
        registered.set(listener, bits | bit);
        setCount(count + 1);
      },
    },
    removeEventListener: {
      configurable: true,
      writable: true,
      value(this: AbortSignal, type: string, listener: Listener | null, options?: ListenerOptions): void {
        Reflect.apply(remove, this, [type, listener, options]);
        if (this !== signal || !isAbortType(type) || !isListener(listener)) return;
        const bit = removedWithCapture(options) ? CAPTURE : NORMAL;
        const bits = registered.get(listener) ?? 0;
        if ((bits & bit) === 0) return;
        if (bits === bit) registered.delete(listener);
        else registered.set(listener, bits & ~bit);
        setCount(count - 1);
      },
    },
  });

  if (handlerProperty?.get !== undefined && handlerProperty.set !== undefined) {
    const { get, set } = handlerProperty;
    Object.defineProperty(signal, 'onabort', {
      configurable: true,
      enumerable: handlerProperty.enumerable ?? false,
      get(this: AbortSignal): unknown {
        return Reflect.apply(get, this, []);
      },
      set(this: AbortSignal, value: unknown): void {
        inHandlerSetter = true;
        try {
          Reflect.apply(set, this, [value]);
        } finally {
          inHandlerSetter = false;
        }
        if (this !== signal) return;
        const nowSet = typeof Reflect.apply(get, this, []) === 'function';
        if (nowSet === handlerSet) return;
        handlerSet = nowSet;
        setCount(count + (nowSet ? 1 : -1));
      },
    });
  }

  return {
    get listening(): boolean {
      return count > 0;
    },
  };
}

function findAccessor(object: object, key: string): PropertyDescriptor | undefined {
  for (let o: object | null = object; o !== null; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, key);
    if (descriptor !== undefined) return descriptor;
  }
  return undefined;
}

function isAbortType(type: unknown): boolean {
  // The DOM converts the type to a string; the original call has already thrown for a symbol.
  return typeof type === 'string' ? type === 'abort' : String(type) === 'abort';
}

function isListener(listener: unknown): listener is Listener {
  return typeof listener === 'function' || (typeof listener === 'object' && listener !== null);
}

// As Node flattens the options: addEventListener converts `capture` to a boolean,
// removeEventListener takes only `true`.
function addedWithCapture(options: ListenerOptions): boolean {
  return typeof options === 'boolean' ? options : Boolean(options?.capture);
}

function removedWithCapture(options: ListenerOptions): boolean {
  return typeof options === 'boolean' ? options : options?.capture === true;
}

// Node marks a listener it holds weakly with an internal option keyed by Symbol('kWeak'); such a
// listener cleans up after something else and waits for nothing.
function isWeak(options: object): boolean {
  return Object.getOwnPropertySymbols(options).some((key) => key.description === 'kWeak');
}
