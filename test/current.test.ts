import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  checkInterrupt,
  clearInterrupt,
  criticalSection,
  currentThread,
  enterCriticalSection,
  interruptionRequested,
  interruptionSignal,
  isThreadInterruptedError,
  Thread,
  ThreadInterruptedError,
} from 'graceful-threads';
import { startWaiting, targets, within } from './helpers.ts';

// The main thread has a flag of its own; these tests set it with currentThread().interrupt().
afterEach(() => {
  clearInterrupt();
});

function throwsInterrupted(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    if (error instanceof ThreadInterruptedError) return true;
    throw error;
  }
}

/** An object whose `then` is the given property: a thenable on purpose. */
function withThen(descriptor: PropertyDescriptor): object {
  return Object.defineProperty({}, 'then', descriptor);
}

describe('currentThread()', () => {
  it('describes the main thread', () => {
    const self = currentThread();
    assert.equal(self.name, 'main');
    assert.equal(self.threadId, 0);
    assert.equal(self.isMainThread, true);
    assert.equal(self.interrupted, false);
  });

  it('interrupt() sets the calling thread’s own flag, with its reason', () => {
    currentThread().interrupt('self');
    assert.equal(interruptionRequested(), true);
    assert.equal(currentThread().interrupted, true);
    assert.throws(checkInterrupt, (error) => error instanceof ThreadInterruptedError && error.reason === 'self');
    assert.equal(clearInterrupt(), true);
    assert.equal(currentThread().interrupted, false);
  });

  it('works the same inside a worker', async () => {
    const thread = new Thread(targets, { export: 'selfInterrupt' }).start();
    assert.deepEqual(await within(thread.join()), { reason: 'self', interrupted: true });
  });
});

describe('checkInterrupt() and clearInterrupt()', () => {
  it('does nothing while the flag is clear', () => {
    checkInterrupt();
    assert.equal(clearInterrupt(), false);
  });

  it('throws on every check until cleared (level-triggered)', () => {
    currentThread().interrupt();
    assert.equal(throwsInterrupted(checkInterrupt), true);
    assert.equal(throwsInterrupted(checkInterrupt), true);
    assert.equal(clearInterrupt(), true);
    assert.equal(throwsInterrupted(checkInterrupt), false);
  });

  it('throws an error users can recognise and branch on', () => {
    currentThread().interrupt(new Error('shutdown'));
    try {
      checkInterrupt();
      assert.fail('checkInterrupt should throw');
    } catch (error) {
      assert.ok(error instanceof ThreadInterruptedError);
      assert.ok(error instanceof Error);
      assert.ok(isThreadInterruptedError(error));
      assert.equal(error.name, 'ThreadInterruptedError');
      assert.equal(error.code, 'ERR_THREAD_INTERRUPTED');
      assert.equal(error.message, 'The thread was interrupted: shutdown');
      assert.ok(error.reason instanceof Error);
      assert.match(String(error.stack), /current\.test\.ts/);
    }
    assert.equal(isThreadInterruptedError(new Error('other')), false);
    assert.equal(isThreadInterruptedError(null), false);
  });

  it('a second interrupt keeps the first reason until the flag is cleared', () => {
    currentThread().interrupt('first');
    currentThread().interrupt('second');
    assert.throws(checkInterrupt, (error) => error instanceof ThreadInterruptedError && error.reason === 'first');
    clearInterrupt();
    currentThread().interrupt('third');
    assert.throws(checkInterrupt, (error) => error instanceof ThreadInterruptedError && error.reason === 'third');
  });
});

describe('critical sections', () => {
  it('defer checkInterrupt() and nest; the first check after the outermost section throws', () => {
    const seen: string[] = [];
    criticalSection(() => {
      currentThread().interrupt();
      seen.push(`requested:${interruptionRequested()}`);
      seen.push(`outer:${throwsInterrupted(checkInterrupt)}`);
      criticalSection(() => {
        seen.push(`nested:${throwsInterrupted(checkInterrupt)}`);
      });
      seen.push(`after-nested:${throwsInterrupted(checkInterrupt)}`);
    });
    seen.push(`after:${throwsInterrupted(checkInterrupt)}`);
    assert.deepEqual(seen, ['requested:true', 'outer:false', 'nested:false', 'after-nested:false', 'after:true']);
  });

  it('returns the function’s result and closes on a throw', () => {
    assert.equal(
      criticalSection(() => 42),
      42,
    );
    assert.throws(
      () =>
        criticalSection(() => {
          throw new Error('inside');
        }),
      { message: 'inside' },
    );
    currentThread().interrupt();
    assert.equal(throwsInterrupted(checkInterrupt), true, 'the section closed when fn threw');
  });

  it('lasts until an async function’s promise settles', async () => {
    let insideThrew: boolean | undefined;
    const result = criticalSection(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      currentThread().interrupt();
      await new Promise((resolve) => setTimeout(resolve, 1));
      insideThrew = throwsInterrupted(checkInterrupt);
      return 'done';
    });
    assert.ok(result instanceof Promise);
    assert.equal(await result, 'done');
    assert.equal(insideThrew, false);
    assert.equal(throwsInterrupted(checkInterrupt), true);
  });

  it('has a using form, closed once however often it is disposed', () => {
    {
      using _section = enterCriticalSection();
      currentThread().interrupt();
      assert.equal(throwsInterrupted(checkInterrupt), false);
    }
    assert.equal(throwsInterrupted(checkInterrupt), true);
    const section = enterCriticalSection();
    const inner = enterCriticalSection();
    inner[Symbol.dispose]();
    inner[Symbol.dispose]();
    assert.equal(throwsInterrupted(checkInterrupt), false, 'the outer section is still open');
    section[Symbol.dispose]();
    assert.equal(throwsInterrupted(checkInterrupt), true);
  });

  it('defers the interruption signal until the outermost section ends', () => {
    const signal = criticalSection(() => {
      currentThread().interrupt('later');
      const inside = interruptionSignal();
      assert.equal(inside.aborted, false);
      return inside;
    });
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof ThreadInterruptedError);
    assert.equal((signal.reason as ThreadInterruptedError).reason, 'later');
  });

  it('close whatever the function returns: a then getter or Proxy that throws is a plain result', () => {
    const throwingGetter = withThen({
      get() {
        throw new Error('then getter');
      },
    });
    assert.equal(
      criticalSection(() => throwingGetter),
      throwingGetter,
    );
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    assert.equal(
      criticalSection(() => hostile),
      hostile,
    );
    currentThread().interrupt();
    assert.equal(throwsInterrupted(checkInterrupt), true, 'no section is left open');
  });

  it('close when a thenable’s then throws, or a promise’s species lookup does', async () => {
    const throwingThen = withThen({
      value: () => {
        throw new Error('then threw');
      },
    });
    await assert.rejects(within(criticalSection(() => throwingThen) as Promise<unknown>), { message: 'then threw' });
    let reads = 0;
    const changing = withThen({
      get() {
        if (++reads > 1) throw new Error('second read');
        return () => {};
      },
    });
    await assert.rejects(within(criticalSection(() => changing) as Promise<unknown>), { message: 'second read' });
    const promise = Promise.resolve('value');
    Object.defineProperty(promise, 'constructor', {
      get() {
        throw new Error('constructor getter');
      },
    });
    await assert.rejects(within(criticalSection(() => promise)), { message: 'constructor getter' });
    currentThread().interrupt();
    assert.equal(throwsInterrupted(checkInterrupt), true, 'no section is left open');
  });

  it('rejects a non-function', () => {
    // @ts-expect-error: not a function
    assert.throws(() => criticalSection(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('defer interruption inside a worker, nested, in both forms', async () => {
    const thread = await startWaiting('deferInCriticalSection');
    thread.interrupt();
    assert.deepEqual(await within(thread.join()), [
      'inner-check-throws:false',
      'inner-sleep-throws:false',
      'nested-check-throws:false',
      'after-nested-check-throws:false',
      'entered-check-throws:false',
      'after-disposed-check-throws:false',
      'signal-aborted-inside:false',
      'signal-aborted-after:true',
      'after-section-check-throws:true',
    ]);
  });

  it('defer interruption inside a worker for an async section', async () => {
    const thread = await startWaiting('deferInAsyncCriticalSection');
    thread.interrupt();
    assert.deepEqual(await within(thread.join()), ['inside-check-throws:false', 'after-check-throws:true']);
  });
});
