/**
 * What runs a thread this library starts: attaches the thread to its slot (by importing the
 * thread state before any user code), runs the target export and reports its outcome (in its
 * slot when the target ended on an interrupt, else on a private port), leaving `parentPort` to
 * the user.
 *
 * The package's entry (src/index.ts) imports it, and a thread's entry is the package's entry: a
 * target that imports the package then loads no second file. Only the copy of the package the
 * thread started with runs the target (it claims the start data); another copy a target imports,
 * and the package in any other thread, do nothing here.
 */

import {
  groupExiting,
  hasLiveChildren,
  markEnded,
  markEndedOnInterrupt,
  markFinished,
  NEVER_LIVE,
  parkIndex,
  unpark,
} from './control-block.js';
import { endsThreadGracefully, isThreadInterruptedError } from './errors.js';
import { heavy } from './lazy.js';
import { rare } from './lazy-rare.js';
import type { CrashMessage, OutcomeMessage } from './messages.js';
import {
  createKeepAlive,
  endThread,
  exitThreadNow,
  loadModule,
  type MessagePort,
  onFatalError,
  onThreadEnd,
  outputInFlight,
  outputWasWritten,
  watchOutput,
} from './runtime/node.js';
import { claimStartData, type StartData, state } from './thread-state.js';

/** Posts the target's outcome; returns whether it is a failure (a result that cannot be cloned is). */
function report(port: MessagePort, message: OutcomeMessage): boolean {
  try {
    port.postMessage(message);
    return message.type === 'error';
  } catch (cause) {
    if (message.type !== 'result') throw cause;
    const error = rare().resultNotCloneableError(cause);
    port.postMessage({ type: 'error', error: heavy().describeError(error) } satisfies OutcomeMessage);
    return true;
  }
}

/** Set with asyncInterrupt: marks a SyntaxError with the place its transform's parser found. */
let locateSyntaxError: ((error: unknown) => void) | undefined;

// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const loadTarget = (async function (href: string, exportName: string): Promise<(...args: unknown[]) => unknown> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await loadModule(href)) as Record<string, unknown>;
  } catch (error) {
    locateSyntaxError?.(error);
    throw rare().targetLoadError(href, error);
  }
  const target = namespace[exportName];
  if (typeof target !== 'function') throw rare().targetExportError(href, exportName, namespace);
  return target as (...args: unknown[]) => unknown;
});

// On a registered global symbol, set by the first copy of the package whose shared objects
// loaded in this thread: args are revived with the very classes the target imports. Else this
// copy's, loaded now (a thread whose args hold no shared object never loads them).
const UNPACK_KEY = Symbol.for('graceful-threads.unpack-shared.v1');

/** Revives the locks, queues... in the args. */
function unpackArgs(args: readonly unknown[]): unknown[] {
  const holder = globalThis as Record<symbol, unknown>;
  const unpack = (holder[UNPACK_KEY] ?? heavy().unpack) as (value: unknown) => unknown[];
  return unpack(args);
}

/** Runs the target of the thread that `start` describes, and reports how it ended on its port. */
// The functions each thread runs as it starts, before its target's first instruction (here, and
// in the thread state, the control block, the runtime adapter, current.ts, the lazy stand-ins) are
// parenthesized: V8's eager-compilation hint, so it compiles them as it parses index.js, once,
// instead of preparsing each then parsing it again on its first call (about 25 such compiles,
// 0.4-0.5 ms of a thread's start on Node 26, measured with hrtime marks in index.js; A/B: 0.2-0.3 ms
// less from new Thread() to the target's first instruction, and no more memory per idle thread:
// they are compiled in every thread anyway). Their module-level `const`s are not hoisted: each is
// defined before anything at a module's top level calls it. The build keeps their names without
// `__name()` (scripts/build.mjs, dropNoOpNames).
// biome-ignore format: the parentheses are V8's eager-compilation hint (every thread runs it as it starts: src/bootstrap.ts)
// biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
const runThread = (function (start: StartData): void {
  const { port } = start;
  watchOutput();

  // For a parent blocked in joinSync(), which hears no 'error' or 'exit' event: the error the
  // thread dies of, then the end itself, in shared memory, after every other 'exit' listener.
  let fatal: { readonly error: unknown } | undefined;
  let failed = false;
  // Whether the target's outcome was posted: a thread that ends without one (process.exit() in
  // it) fails with ERR_THREAD_EXITED, which its parent reports when nobody joins it.
  let outcomePosted = false;
  onFatalError((error) => {
    fatal = { error };
  });
  // Parenthesized: compiled now, not between an interrupt and join() settling (see outputInFlight).
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  onThreadEnd((function threadEnded(exitCode: number): void {
    if (fatal !== undefined && exitCode !== 0) {
      try {
        port.postMessage({ type: 'crash', error: heavy().describeError(fatal.error) } satisfies CrashMessage);
      } catch {
        // The port may be closed already; the parent's 'error' event still has the error.
      }
    }
    // A failure nobody joins is reported by the parent as it reads this end: a shutdown waits for it.
    markEnded(
      state.block,
      state.self,
      exitCode,
      failed ||
        (!outcomePosted && start.pool === undefined) ||
        outputWasWritten() ||
        (fatal !== undefined && exitCode !== 0),
    );
  }));

  // The event loop emptied while the target's promise is pending: nothing left can settle it,
  // and the thread is about to end. Said now, as the outcome; should something still settle it
  // later (a 'beforeExit' listener of the user's scheduled more work), that outcome is the last word.
  const keepAlive = createKeepAlive(() => {
    report(port, { type: 'unsettled' });
    failed = true;
  });
  state.targetKeepAlive = keepAlive;

  // What the thread runs after its target, between an interrupt and join() settling, where each
  // function V8 compiles on its first call costs 10-30 us: compiled, without doing it, just
  // before the thread first blocks, when it has nothing else to do (src/current.ts). Not with
  // the module (parenthesized): that raised every thread's memory by 0.1-0.2 MiB on Node 26. On
  // a slot reference no thread holds (not this thread's slot at its next generation, which is
  // another thread's once the slot is freed while this one still runs): nothing is marked.
  state.warmExitPath = () => {
    state.warmExitPath = undefined;
    markEndedOnInterrupt(state.block, NEVER_LIVE);
    markFinished(state.block, NEVER_LIVE, outputInFlight() ? 'output-in-flight' : 'finished');
    markEnded(state.block, NEVER_LIVE, 0, outputWasWritten());
    parkIndex(undefined);
    // What markEnded calls for a live slot (it wakes the parent): on a word of its own, unshared.
    unpark(Atomics, new Int32Array(1), 0);
    // What a thread asks on its way out of a shutdown the process exits after.
    if (!groupExiting(state.block)) hasLiveChildren(state.block, state.self);
  };

  // Not a top-level await: a module whose top-level await never settles makes Node end the
  // thread with exit code 13 and print a warning that points into this file.
  // Parenthesized, as runThread is: it runs at once, up to the target's import.
  // biome-ignore format: the parentheses are V8's eager-compilation hint
  const run = (async function run(): Promise<void> {
    try {
      if (start.asyncInterrupt !== undefined) {
        // Before the target loads, so that its modules load through the transform; and only
        // here, so that a thread without the option loads neither the hook nor the parser.
        // The installer is a file of its own, which no other thread loads.
        const installer = (await import(
          new URL('./async-interrupt/install.js', import.meta.url).href
        )) as typeof import('./async-interrupt/install.js');
        locateSyntaxError = rare().enableAsyncInterrupt(start.asyncInterrupt, installer);
      }
      if (start.pool !== undefined) {
        // A pool's worker: serves tasks until its pool closes it, then ends as a target returning.
        // After a tick: the package's entry, which provides the lazy half, is still loading.
        await Promise.resolve();
        await heavy().servePool(start, loadTarget);
        return;
      }
      const target = await loadTarget(start.moduleHref, start.exportName);
      const args = start.shared ? unpackArgs(start.args) : start.args;
      failed = report(port, { type: 'result', value: await target(...args) });
      outcomePosted = true;
    } catch (error) {
      // The brand check first: the common way to end, and one function to compile rather than three.
      if (isThreadInterruptedError(error) || endsThreadGracefully(error)) {
        // In shared memory, not a message: what every thread of a shutdown says (the Thread
        // handle reads it, src/thread.ts). A pool reads its worker's messages only.
        if (start.pool === undefined) markEndedOnInterrupt(state.block, state.self);
        else port.postMessage({ type: 'interrupted' } satisfies OutcomeMessage);
        outcomePosted = true;
      } else {
        failed = report(port, { type: 'error', error: heavy().describeError(error) });
        outcomePosted = true;
      }
    } finally {
      state.targetKeepAlive = undefined;
      keepAlive.close();
      const inFlight = outputInFlight();
      markFinished(state.block, state.self, inFlight ? 'output-in-flight' : 'finished');
      // The process exits next (a shutdown in its 'exit', where the main thread blocks): what the
      // loop would still run, which that exit cuts off anyway, would only hold it up.
      // Not while output or threads of its own (and the output it forwards for them) are pending.
      if (!inFlight && groupExiting(state.block) && !hasLiveChildren(state.block, state.self)) exitThreadNow();
      // A browser's worker does not end by itself (a Node thread does once its loop empties).
      endThread(0);
    }
  });
  void run();
});

const start = claimStartData();
if (start !== undefined) runThread(start);
