/**
 * Interrupt reasons are stored as bytes and read back as structured clone would copy them: the
 * table compares, on the running Node, what the codec gives with what structuredClone gives.
 */
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import { inspect, isDeepStrictEqual } from 'node:util';
import { interruptAllThreads, Thread } from 'graceful-threads';
import { encodeReason } from '../src/reason.ts';
import { decodeStringReason } from '../src/reason-text.ts';
import { decodeValue } from '../src/runtime/node-codec.ts';
// @ts-expect-error: a JavaScript fixture without types
import { shape } from './fixtures/shape.mjs';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/reasons.mjs', import.meta.url);
const shapeOf = shape as (value: unknown) => unknown;

/** What a thread reads back of `value`, as src/current.ts does: the fast string reader first. */
function roundTrip(value: unknown): unknown {
  const bytes = encodeReason(value);
  return bytes === undefined ? undefined : (decodeStringReason(bytes) ?? decodeValue(bytes));
}

/** The first place two shapes differ, for a short failure message (a full diff of large shapes takes minutes). */
function firstDifference(actual: unknown, expected: unknown, path = 'value'): string | undefined {
  if (isDeepStrictEqual(actual, expected)) return undefined;
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null) {
    for (const key of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
      const inner = firstDifference(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
      if (inner !== undefined) return inner;
    }
  }
  const show = (value: unknown): string =>
    inspect(value, { depth: 1, breakLength: Number.POSITIVE_INFINITY }).slice(0, 300);
  return `${path}: ${show(actual)} instead of ${show(expected)}`;
}

function assertSameShape(value: unknown, expected: unknown, label: string): void {
  const difference = firstDifference(shapeOf(value), shapeOf(expected));
  assert.equal(difference, undefined, `${label}: ${difference}`);
}

function attempt(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

// Node 20's structured clone turns a DOMException into {}; Node 24's keeps it, and so does ours
// everywhere. On Node 20, such rows are compared with the value itself (or with what Node 24's
// structured clone would give, when the row says).
const cloneKeepsDomException = structuredClone(new DOMException('', 'AbortError')) instanceof DOMException;

const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');

type Row = [label: string, value: unknown, holdsDomException?: boolean, asOnNode24?: unknown];

function rows(): Row[] {
  const buffer = new ArrayBuffer(16);
  new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
  const cyclic: Record<string, unknown> = { name: 'cyclic' };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push(cyclicArray);
  const sparse: unknown[] & { extra?: string } = [1];
  sparse[2] = 3; // index 1 stays a hole
  sparse.extra = 'kept';
  const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
  class Point {
    x = 1;
    y = 2;
    get sum(): number {
      return this.x + this.y;
    }
  }
  const shared = { shared: true };
  const withCause = new Error('outer', { cause: new TypeError('inner', { cause: 'root' }) });
  const withProps = Object.assign(new RangeError('props'), { code: 'E_DROPPED' });
  class CustomError extends Error {}
  const renamed = new Error('renamed');
  renamed.name = 'TypeError';
  const abort = new AbortController();
  abort.abort();
  const mapWithItself = new Map<unknown, unknown>();
  mapWithItself.set('me', mapWithItself);
  return [
    ['a string', 'shutdown'],
    ['a number', 42],
    ['-0', -0],
    ['NaN', Number.NaN],
    ['a bigint', 2n ** 70n],
    ['null', null],
    ['true', true],
    ['a plain object', { a: 1, b: [1, 'two', { c: null }] }],
    ['a __proto__ own key', JSON.parse('{"__proto__": {"x": 1}}')],
    ['a sparse array with a property', sparse],
    ['a null-prototype object', nullProto],
    ['a class instance', new Point()],
    [
      'a getter',
      {
        get answer() {
          return 42;
        },
      },
    ],
    ['a cycle through an object', cyclic],
    ['a cycle through an array', cyclicArray],
    ['a cycle through a Map', mapWithItself],
    ['one object in two places', { first: shared, second: shared }],
    [
      'a Map',
      new Map<unknown, unknown>([
        [{ key: 1 }, 'object key'],
        ['k', new Set([1, 2])],
      ]),
    ],
    ['a Set', new Set([1, 'two', { three: 3 }])],
    ['a Date', new Date(1_700_000_000_000)],
    ['a RegExp', /a+b/giu],
    ['boxed primitives', [new Number(1), new String('s'), new Boolean(false), Object(1n)]],
    ['an ArrayBuffer', buffer],
    ['views sharing a buffer', { whole: new Uint8Array(buffer), part: new Uint16Array(buffer, 2, 3), buffer }],
    ['a DataView', new DataView(buffer, 4, 8)],
    ['a Float64Array', new Float64Array([1.5, -0, Number.NaN])],
    ['a BigInt64Array', new BigInt64Array([1n, -1n])],
    ['a Buffer (a Uint8Array once cloned)', Buffer.alloc(5, 'bytes')],
    ['a resizable ArrayBuffer', new ArrayBuffer(4, { maxByteLength: 8 })],
    ['an Error', new Error('plain')],
    ...([TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as ErrorConstructor[]).map(
      (cls): [string, unknown] => [`a ${cls.name}`, new cls(cls.name)],
    ),
    ['an AggregateError (an Error once cloned)', new AggregateError([new Error('a')], 'aggregate')],
    ['a custom error class', new CustomError('custom')],
    ['an error renamed TypeError', renamed],
    ['an error with causes', withCause],
    ['an error with own properties (dropped)', withProps],
    ['errors in an object', { list: [new TypeError('a'), withCause], withCause }],
    ['a TimeoutError DOMException', timeout, true],
    ['the reason of an aborted AbortController', abort.signal.reason, true],
    ['a DOMException with a custom name', new DOMException('custom', 'CustomName'), true],
    ['a DOMException with no name', new DOMException('no name'), true],
    ['a DOMException in an error’s cause', new Error('deadline', { cause: timeout }), true],
    [
      'a DOMException twice, in an array, a Map and a Set',
      [timeout, new Map([[timeout, timeout]]), new Set([timeout])],
      true,
    ],
    [
      'a DOMException beside views of one buffer',
      { timeout, whole: new Uint8Array(buffer), part: new DataView(buffer, 2), buffer },
      true,
    ],
    ['a DOMException in a class instance', Object.assign(new Point(), { timeout }), true, { x: 1, y: 2, timeout }],
  ];
}

describe('interrupt reasons: decoded as structuredClone copies them', () => {
  for (const [label, value, holdsDomException, asOnNode24 = value] of rows()) {
    it(label, () => {
      const expected = holdsDomException && !cloneKeepsDomException ? asOnNode24 : structuredClone(value);
      assertSameShape(roundTrip(value), expected, label);
    });
  }

  it('refuses what structuredClone refuses, on this Node', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const candidates: [string, unknown][] = [
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['an object holding a function', { callback() {} }],
      ['a WeakMap', new WeakMap()],
      ['a Promise', Promise.resolve()],
      ['a proxy', new Proxy({}, {})],
      ['a revoked proxy', proxy],
      ['a URL (refused by structured clone from Node 21 on)', new URL('https://example.com/')],
      ['an AbortSignal', new AbortController().signal],
    ];
    for (const [label, value] of candidates) {
      const cloned = attempt(() => structuredClone(value));
      const encoded = attempt(() => encodeReason(value));
      if (cloned.ok) {
        assert.ok(encoded.ok, `${label}: structuredClone accepts it, encodeReason should too`);
        assertSameShape(roundTrip(value), cloned.value, label);
      } else {
        assert.ok(!encoded.ok, `${label}: structuredClone refuses it, encodeReason should too`);
        assert.equal((encoded.error as { code?: unknown }).code, 'ERR_INTERRUPT_REASON_NOT_CLONEABLE', label);
      }
    }
  });

  it('refuses a SharedArrayBuffer, saying why and to pass it in args', () => {
    const sab = new SharedArrayBuffer(8);
    for (const value of [sab, { nested: [sab] }, new Int32Array(sab), new Error('e', { cause: sab })]) {
      assert.ok(attempt(() => structuredClone(value)).ok); // structured clone would share it
      assert.throws(
        () => encodeReason(value),
        (error: Error & { code?: unknown }) =>
          error instanceof TypeError &&
          error.code === 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' &&
          /SharedArrayBuffer/.test(error.message) &&
          /shared memory/.test(error.message) &&
          /args/.test(error.message),
      );
    }
  });

  it('refuses an object Node clones only through a MessagePort, naming it', () => {
    const value = { list: new BlockList() };
    assert.ok(attempt(() => structuredClone(value)).ok);
    assert.throws(() => encodeReason(value), {
      name: 'TypeError',
      code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
      message: /BlockList.*MessagePort.*args/s,
    });
  });

  it('reports a throwing getter of the reason as not cloneable, with the getter’s error as cause', () => {
    const failure = new Error('getter failed');
    assert.throws(
      () =>
        encodeReason({
          get broken() {
            throw failure;
          },
        }),
      (error: Error & { code?: unknown }) =>
        error.code === 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' && error.cause === failure,
    );
  });

  it('reports a getter throwing a revoked proxy as not cloneable, not with an error of its own', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const reason = {
      get broken(): never {
        throw proxy;
      },
    };
    assert.throws(() => encodeReason(reason), { code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' });
  });

  it('reads back an error that is its own cause, or refuses it where V8 cannot (Node 20)', () => {
    const self = new Error('self');
    self.cause = self;
    const cloned = attempt(() => structuredClone(self));
    if (cloned.ok) {
      const decoded = roundTrip(self) as Error;
      assert.equal(decoded.cause, decoded);
    } else {
      assert.throws(() => encodeReason(self), { code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE', message: /read back/ });
    }
  });
});

describe('interrupt reasons: in a real thread', () => {
  async function received(reason: unknown): Promise<Record<string, unknown>> {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'reasonShape', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    thread.interrupt(reason);
    return (await within(thread.join())) as Record<string, unknown>;
  }

  it('delivers AbortSignal.timeout()’s reason as a DOMException TimeoutError with code 23', async () => {
    const signal = AbortSignal.timeout(1);
    const keepAlive = setTimeout(() => {}, 20_000);
    await within(new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })));
    clearTimeout(keepAlive);
    const reason = signal.reason as DOMException;
    const seen = await received(reason);
    assert.equal(seen.isDomException, true);
    assert.equal(seen.signalReasonIsDomException, true);
    assert.deepEqual(seen.shape, shapeOf(cloneKeepsDomException ? structuredClone(reason) : reason));
    const { domException } = seen.shape as { domException: { name: string; code: number } };
    assert.equal(domException.name, 'TimeoutError');
    assert.equal(domException.code, 23);
    assert.equal(seen.message, 'The thread was interrupted: The operation was aborted due to timeout');
  });

  it('delivers a DOMException nested in an error’s cause', async () => {
    const reason = new Error('deadline', { cause: new DOMException('aborted', 'AbortError') });
    const seen = await received(reason);
    assert.equal(seen.causeIsDomException, true);
    assert.deepEqual(seen.shape, shapeOf(cloneKeepsDomException ? structuredClone(reason) : reason));
  });

  it('delivers plain data, errors and cycles as structuredClone copies them', async () => {
    const value: Record<string, unknown> = { at: new Date(0), tags: new Set(['a']), error: new RangeError('r') };
    value.self = value;
    assert.deepEqual((await received(value)).shape, shapeOf(structuredClone(value)));
  });

  it('leaves the thread uninterrupted when the reason is refused', async () => {
    const sync = syncArray();
    const thread = new Thread(fixture, { export: 'reasonShape', args: [sync] }).start();
    await waitFor(sync, 0, 1);
    assert.throws(() => thread.interrupt(new SharedArrayBuffer(4)), { code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE' });
    assert.throws(() => interruptAllThreads({ shared: new SharedArrayBuffer(4) }), {
      code: 'ERR_INTERRUPT_REASON_NOT_CLONEABLE',
    });
    assert.equal(thread.interrupted, false);
    thread.interrupt('now');
    assert.equal(((await within(thread.join())) as { shape: unknown }).shape, 'now');
  });
});
