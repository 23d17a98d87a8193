/**
 * What a thread's target throws reaches join() as faithfully as structured clone allows, whatever
 * it is, and never as an error of the library's own. Each case runs in a real thread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Thread, ThreadInterruptedError } from 'graceful-threads';
import { describeError, rebuildError } from '../src/error-transfer.ts';
import { within } from './helpers.ts';

const fixture = new URL('./fixtures/errors.mjs', import.meta.url);

/** Runs the fixture export and returns what join() rejected with (failing if it resolved). */
async function failureOf(exportName: string, ...args: unknown[]): Promise<unknown> {
  const thread = new Thread(fixture, { export: exportName, args }).start();
  let failure: { readonly error: unknown } | undefined;
  await within(thread.join()).then(
    (value) => assert.fail(`join() resolved with ${String(value)}`),
    (error: unknown) => {
      failure = { error };
    },
  );
  assert.equal(thread.state, 'failed');
  assert.ok(failure !== undefined);
  return failure.error;
}

function asError(value: unknown): Error & Record<string, unknown> {
  assert.ok(value instanceof Error, `expected an Error, got ${String(value)}`);
  return value as Error & Record<string, unknown>;
}

describe('errors crossing threads: thrown values that are not errors', () => {
  for (const [label, value] of [
    ['undefined', undefined],
    ['null', null],
    ['42', 42],
    ['a string', 'plain string'],
    ['a bigint', 10n ** 20n],
    ['a plain object', { code: 'E_PLAIN', nested: { list: [1, 2] } }],
  ] as const) {
    it(`rejects with ${label}, as structured clone gives it`, async () => {
      assert.deepEqual(await failureOf('throwValue', value), value);
    });
  }

  it('rejects with a null-prototype object as the plain object structured clone makes of it', async () => {
    assert.deepEqual(await failureOf('throwNullPrototype', false), { code: 'E_NULL' });
  });

  it('stands in a description for a null-prototype object that cannot be cloned', async () => {
    // String() of it throws: the bootstrap once reported that TypeError as the target's failure.
    const failure = await failureOf('throwNullPrototype', true);
    assert.equal(typeof failure, 'string');
    assert.match(failure as string, /null prototype.*code: 'E_NULL'.*callback/);
  });

  it('stands in a description for a function, a symbol and an object holding a function', async () => {
    assert.equal(await failureOf('throwUncloneable', 'function'), '[Function: namedCallback]');
    assert.equal(await failureOf('throwUncloneable', 'symbol'), 'Symbol(thrown)');
    assert.match((await failureOf('throwUncloneable', 'object')) as string, /answer: 42.*callback/);
  });
});

describe('errors crossing threads: classes', () => {
  it('rebuilds an AggregateError with its errors, recursively', async () => {
    const error = asError(await failureOf('throwAggregate'));
    assert.ok(error instanceof AggregateError);
    assert.equal(error.message, 'many failures');
    const [first, second, third, fourth] = (error as unknown as AggregateError).errors as unknown[];
    assert.ok(first instanceof TypeError && first.message === 'first');
    assert.ok(second instanceof RangeError);
    assert.equal(second.constructor.name, 'ValidationError');
    assert.equal((second as Error & { code?: unknown }).code, 'E_VALIDATION');
    assert.equal(third, 'not an error');
    assert.ok(fourth instanceof AggregateError);
    assert.ok(fourth.errors[0] instanceof URIError);
    assert.equal(Object.getOwnPropertyDescriptor(error, 'errors')?.enumerable, false);
    assert.ok(error.cause instanceof EvalError);
    assert.match(error.stack ?? '', /throwAggregate/);
  });

  it('rebuilds a DOMException with its name, code, message and stack', async () => {
    const error = asError(await failureOf('throwDomException'));
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'NotFoundError');
    assert.equal((error as unknown as DOMException).code, 8);
    assert.equal(error.message, 'nothing here');
    assert.match(error.stack ?? '', /throwDomException/);
  });

  it('rebuilds the TimeoutError of AbortSignal.timeout()', async () => {
    const error = asError(await failureOf('throwTimeoutReason'));
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'TimeoutError');
    assert.equal((error as unknown as DOMException).code, 23);
  });

  it('keeps a custom class’s name over its nearest built-in class', async () => {
    const error = asError(await failureOf('throwTransparentProxy'));
    assert.ok(error instanceof RangeError);
    assert.equal(error.constructor.name, 'ValidationError');
    assert.equal(error.message, 'through a proxy');
    assert.equal(error.code, 'E_VALIDATION');
    // Set by the constructor with `this.name =`: an own, enumerable property, as it was.
    assert.equal(Object.getOwnPropertyDescriptor(error, 'name')?.enumerable, true);
  });

  it('keeps the built-in class of an error from another realm', async () => {
    const error = asError(await failureOf('throwFromOtherRealm'));
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'from a vm context');
  });

  it('rebuilds an error-valued cause or property as its class (SuppressedError where it exists)', async () => {
    const wrapped = asError(await failureOf('throwInterruptedCause'));
    assert.ok(wrapped.cause instanceof ThreadInterruptedError);
    assert.equal((wrapped.cause as ThreadInterruptedError).reason, 'why');
    if (typeof (globalThis as { SuppressedError?: unknown }).SuppressedError !== 'function') return;
    const error = asError(await failureOf('throwSuppressed'));
    assert.equal(error.constructor.name, 'SuppressedError');
    assert.ok(error.error instanceof TypeError);
    assert.ok(error.suppressed instanceof RangeError);
    assert.equal(error.message, 'suppressed');
  });
});

describe('errors crossing threads: own properties', () => {
  it('keeps non-enumerable own properties as non-enumerable, and error-valued ones as errors', async () => {
    const error = asError(await failureOf('throwWithHiddenProperties'));
    assert.ok(error instanceof TypeError);
    assert.deepEqual(error.secret, { token: 7 });
    assert.equal(Object.getOwnPropertyDescriptor(error, 'secret')?.enumerable, false);
    assert.deepEqual(error.visible, [1, 2]);
    assert.equal(Object.getOwnPropertyDescriptor(error, 'visible')?.enumerable, true);
    assert.equal('unclonable' in error, false); // a function cannot cross; the rest does
    assert.ok(error.original instanceof RangeError);
    assert.equal((error.original as Error).constructor.name, 'ValidationError');
  });
});

describe('errors crossing threads: what the library must survive', () => {
  it('reports the target’s error when one of its getters throws', async () => {
    const error = asError(await failureOf('throwWithThrowingCode'));
    assert.equal(error.message, 'the target failed');
    assert.equal(error.kept, 'yes');
    assert.equal('code' in error, false);
  });

  it('reports an error whose name, message, stack and constructor getters all throw', async () => {
    const error = asError(await failureOf('throwHostileError'));
    assert.ok(error instanceof TypeError);
    assert.equal(error.marker, 'hostile');
    assert.doesNotMatch(String(error.message), /hostile getter/);
  });

  it('reports a proxy whose every trap throws as a description of it', async () => {
    const failure = await failureOf('throwHostileProxy');
    assert.equal(typeof failure, 'string');
    assert.doesNotMatch(failure as string, /a proxy trap/);
  });

  it('reports a revoked proxy as a description of it', async () => {
    assert.equal(await failureOf('throwRevokedProxy'), '<Revoked Proxy>');
  });

  it('keeps cycles of causes', async () => {
    const first = asError(await failureOf('throwCyclicAbortErrors'));
    assert.equal(first.message, 'first');
    assert.equal(first.name, 'AbortError');
    assert.equal((first.cause as Error).message, 'second');
    assert.equal((first.cause as Error).cause, first);
    const self = asError(await failureOf('throwSelfCause'));
    assert.ok(self instanceof RangeError);
    assert.equal(self.cause, self);
  });

  it('keeps a long chain of causes, the deepest as structured clone keeps them', async () => {
    const error = asError(await failureOf('throwLongCauseChain', 5000));
    let level: unknown = error;
    for (let i = 0; i < 64; i++) {
      assert.equal((level as Error).message, `level ${i}`);
      level = (level as Error).cause;
    }
  });

  it('carries a huge error', async () => {
    const error = asError(await failureOf('throwHuge'));
    assert.equal(error.message.length, 4_000_000);
    assert.equal((error.items as number[]).length, 100_000);
    const errors = error.errors as Error[];
    assert.equal(errors.length, 2_000);
    assert.ok(errors[1_999] instanceof TypeError && errors[1_999].message === 'item 1999');
  });

  it('reports ERR_THREAD_RESULT_NOT_CLONEABLE when cloning the result throws a value String() cannot convert', async () => {
    const error = asError(await failureOf('returnsHostileGetter'));
    assert.equal(error.code, 'ERR_THREAD_RESULT_NOT_CLONEABLE');
    assert.ok(error instanceof TypeError);
  });
});

describe('describeError()', () => {
  it('describes anything without throwing, as data structured clone can copy', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    const cyclic = new Error('cyclic');
    cyclic.cause = new Error('middle', { cause: cyclic });
    for (const thrown of [proxy, hostile, Object.create(null), cyclic, Symbol('s'), () => 1, new Error('plain')]) {
      const described = describeError(thrown);
      assert.doesNotThrow(() => structuredClone(described));
      assert.doesNotThrow(() => rebuildError(structuredClone(described)));
    }
  });
});
