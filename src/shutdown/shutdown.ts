/**
 * Whole-group shutdown: interrupt every thread of the calling thread's group at once (nested
 * ones included), wait for them to end up to a grace period, then take the stacks of the ones
 * still running and terminate them. `shutdown()` runs it on demand; the process hooks
 * (./process-hooks.ts) run it on a signal, `process.exit()` or an uncaught error.
 *
 * Every thread of the group ends by marking its slot (`markEnded`), which bumps one shared
 * counter: the caller waits on that single word for all of them, so the interrupts, the
 * wake-ups and the joins are one parallel step rather than one join after another. It sets the
 * count at which it wants to be woken (`setEndTarget`): the last of the threads it waits for to
 * end wakes it, not each one.
 */

import { codedError, invalidArgType } from '../coded-errors.js';
import {
  allocateSlot,
  type ControlBlock,
  copySlotIdentity,
  createControlBlock,
  END_COUNTER_INDEX,
  endedExitCode,
  endedUnread,
  identityName,
  isLive,
  liveSlots,
  markEnded,
  markGroupExiting,
  readSlotReport,
  requestInterrupt,
  type SlotIdentity,
  type SlotRef,
  setEndTarget,
  targetFinished,
} from '../control-block.js';
import { closeAllPools, poolsOpen } from '../pool.js';
import { encodeReason } from '../reason.js';
import { createKeepAlive, monotonicMs } from '../runtime/node.js';
import { reportStacks } from '../runtime/node-report-stacks.js';
import { captureStacks } from '../runtime/node-stacks.js';
import { callerIn, state } from '../thread-state.js';
import { validateTimeout } from '../waits/arguments.js';
import { runningThreads } from './running-threads.js';

/** Options of {@link shutdown}. */
export interface ShutdownOptions {
  /**
   * How long the threads get to end after the interrupt, in milliseconds, before the ones still
   * running are terminated. Default 5000; `Infinity` waits for ever.
   */
  graceMs?: number;
  /** The interrupt's reason, as for `thread.interrupt(reason)`. Default `'shutdown'`. */
  reason?: unknown;
}

/** A thread that ended within the grace period. */
export interface EndedThreadRecord {
  readonly name: string;
  /** Node's thread id (`worker.threadId`). */
  readonly threadId: number;
  /** Milliseconds from the interrupt to its end. */
  readonly ms: number;
}

/** A thread still running at the end of the grace period, which was terminated. */
export interface TerminatedThreadRecord extends EndedThreadRecord {
  /** Milliseconds from the interrupt to its termination. */
  readonly ms: number;
  /** It was inside a critical section (which defers its interruption). */
  readonly inCriticalSection: boolean;
  /** It had seen its flag set since the interrupt: it looked, and did not stop. */
  readonly checkedSinceInterrupt: boolean;
  /**
   * Where it was stuck: its JavaScript stack, taken through Node's inspector (in the process's
   * `'exit'` event, from Node's diagnostic report), as lines `    at fn (url:line:column)`; a note
   * that it was idle in its event loop, or a note that it could not be taken.
   */
  readonly stack: string;
}

/** What {@link shutdown} did. */
export interface ShutdownReport {
  /** Threads that ended in time, in the order they ended. */
  readonly ended: readonly EndedThreadRecord[];
  /** Threads that were terminated, with where each was stuck. */
  readonly terminated: readonly TerminatedThreadRecord[];
  /** Milliseconds the whole shutdown took. */
  readonly ms: number;
}

/** The default grace period, in milliseconds. */
export const DEFAULT_GRACE_MS = 5000;
/** At most this long is spent taking the stuck threads' stacks. */
const STACK_BUDGET_MS = 2000;
/**
 * A bound on each wait for the end counter, a net only: every end, free and start bumps it.
 * Tests set a slice long enough that a lost wake-up shows as a hang.
 */
const WAIT_SLICE_MS = 100;
const SLICE_KEY = Symbol.for('graceful-threads.test.park-slice-ms');

function waitSliceMs(): number {
  const override = (globalThis as Record<symbol, unknown>)[SLICE_KEY];
  return typeof override === 'number' ? override : WAIT_SLICE_MS;
}
/**
 * On a signal, how long this thread first waits for the threads' ends blocked, not in its event
 * loop (see runShutdown).
 */
const BLOCKED_WAIT_MS = 100;
/** The blocked wait's slices: between them it looks for a thread whose last output waits for this one. */
const BLOCKED_SLICE_MS = 2;
/** Tests set a bound long enough that what would wait for it shows as a hang. */
const BLOCKED_KEY = Symbol.for('graceful-threads.test.blocked-wait-ms');

function blockedWaitMs(): number {
  const override = (globalThis as Record<symbol, unknown>)[BLOCKED_KEY];
  return typeof override === 'number' ? override : BLOCKED_WAIT_MS;
}
const NO_STACK = '(stack not available: the inspector did not reach the thread in time)';
/**
 * In the process's `'exit'` event the stacks come from Node's diagnostic report, not the
 * inspector: Node crashed (SIGSEGV) in 1 of 4 to 1 of 10 exits after the inspector had paused a
 * worker there (Node 20, 24, 26).
 */
const NO_STACK_AT_EXIT = "(stack not available: the process's diagnostic report did not include the thread)";

/**
 * Shutdowns in progress in this thread (one, but for a `shutdown()` that a signal or an exit
 * overlaps): with more than one, every end wakes them (the counter has one target).
 */
let endWaiters = 0;

interface Watched {
  readonly ref: SlotRef;
  readonly name: string;
  readonly threadId: number;
  readonly since: number;
}

/** One shutdown in progress: who is still running, who ended when. */
class Run {
  readonly #registry: ControlBlock;
  readonly #reason: Uint8Array | undefined;
  readonly #caller: number | undefined;
  readonly #pending = new Map<string, Watched>();
  readonly #known = new Set<string>();
  readonly ended: EndedThreadRecord[] = [];
  readonly started: number;
  /** The end counter before the first scan. */
  readonly #base: number;
  /** How many threads the scans have found running (and interrupted). */
  #watched = 0;

  /**
   * Counts as ended, before it exits, a thread whose target has finished, and a pool's idle worker
   * (it waits for a task): for a shutdown in the process's `'exit'`. The main thread blocks there
   * and cannot read what threads print, so a thread whose output (or its children's, which it
   * forwards) is still on its way could not exit. What a cleanup started without awaiting it is
   * cut off, as `process.exit()` cuts off the main thread's own pending work.
   */
  readonly #untilFinished: boolean;
  /**
   * Stops each worker whose thread has ended at once (see `RunningThread.hurry`), so that its handle
   * settles sooner: not when the process exits next, which stops them all (a terminate() each
   * costs this thread 20-40 us).
   */
  readonly #hurry: boolean;

  constructor(registry: ControlBlock, reason: Uint8Array | undefined, untilFinished = false, hurry = true) {
    this.#untilFinished = untilFinished;
    this.#hurry = hurry;
    this.#registry = registry;
    this.#reason = reason;
    this.#caller = callerIn(registry);
    this.started = monotonicMs();
    this.#base = this.counter();
  }

  /** The end counter's value: read before a scan, waited on after it, so no end is missed. */
  counter(): number {
    return Atomics.load(this.#registry.words, END_COUNTER_INDEX);
  }

  /**
   * Before a wait on the end counter: asks to be woken once every thread the scans found running
   * has ended. Each bumps the counter once as it ends (or its parent does, as it frees the slot of
   * one that was terminated), after the value read before the first scan. A thread started since
   * bumps it as it takes its slot.
   */
  wakeWhenAllEnded(): void {
    setEndTarget(this.#registry, endWaiters > 1 ? 0 : this.#base + this.#watched);
  }

  /** Interrupts threads not seen before (the first scan: all), and notes the ones that ended. */
  scan(): void {
    const registry = this.#registry;
    const now = monotonicMs();
    // The interrupts first, in one tight pass, the bookkeeping after: every thread starts its
    // cleanup at once, rather than each behind the records of the ones before it (which the
    // threads already woken then delay, on a machine with fewer cores than threads).
    const interrupted: { readonly ref: SlotRef; readonly identity: SlotIdentity }[] = [];
    for (const ref of liveSlots(registry)) {
      const key = `${ref.slot}:${ref.gen}`;
      if (ref.slot === this.#caller || this.#known.has(key)) continue;
      this.#known.add(key);
      if (this.#hasEnded(ref)) continue; // ending already: nothing to wait for
      // Copied before the interrupt: a thread can end and have its slot freed by its parent
      // (another thread) before the records below, and was interrupted all the same.
      const identity = copySlotIdentity(registry, ref.slot);
      if (requestInterrupt(registry, ref, this.#reason, this.#caller) !== 'gone') interrupted.push({ ref, identity });
    }
    this.#watched += interrupted.length;
    for (const { ref, identity } of interrupted) {
      // Its identity as it is now, while it lives (its parent may have named it since the copy).
      const report = readSlotReport(registry, ref);
      const threadId = report?.threadId ?? identity.threadId;
      this.#pending.set(`${ref.slot}:${ref.gen}`, {
        ref,
        name: fullName(ref.slot, threadId, report?.name ?? identityName(identity)),
        threadId,
        since: now,
      });
    }
    for (const [key, watched] of this.#pending) {
      if (!this.#hasEnded(watched.ref)) {
        // Seen before its parent had named it (a worker takes milliseconds to create): read again.
        if (watched.threadId < 0 || watched.name === '') this.#refresh(key, watched);
        continue;
      }
      this.#pending.delete(key);
      this.ended.push({ name: watched.name, threadId: watched.threadId, ms: round(now - watched.since) });
      if (!this.#hurry) continue;
      for (const thread of runningThreads) if (thread.threadId === watched.threadId) thread.hurry();
    }
  }

  /**
   * The slots of the threads that have ended after printing or failing, whose end is not read yet
   * here (the slot is still live): what they printed last, or their failure, may wait in this
   * thread's event loop. A nested thread's output and failure go through its parent, which then
   * counts as having printed.
   */
  unreadSlots(): Set<number> {
    const slots = new Set<number>();
    for (const ref of liveSlots(this.#registry)) if (endedUnread(this.#registry, ref)) slots.add(ref.slot);
    return slots;
  }

  #refresh(key: string, watched: Watched): void {
    const report = readSlotReport(this.#registry, watched.ref);
    if (report === undefined) return;
    this.#pending.set(key, {
      ...watched,
      name: fullName(watched.ref.slot, report.threadId, report.name),
      threadId: report.threadId,
    });
  }

  #hasEnded(ref: SlotRef): boolean {
    const registry = this.#registry;
    if (!isLive(registry, ref) || endedExitCode(registry, ref) !== undefined) return true;
    if (!this.#untilFinished) return false;
    return targetFinished(registry, ref) !== false;
  }

  get settled(): boolean {
    return this.#pending.size === 0;
  }

  /**
   * Whether a thread has finished with output still on its way to this thread: Node keeps it
   * alive until this thread's event loop has read that output.
   */
  outputWaits(): boolean {
    for (const watched of this.#pending.values()) {
      if (targetFinished(this.#registry, watched.ref) === 'output-in-flight') return true;
    }
    return false;
  }

  /** The threads still running. */
  stuck(): Watched[] {
    return [...this.#pending.values()];
  }

  report(terminated: readonly TerminatedThreadRecord[]): ShutdownReport {
    return { ended: this.ended, terminated, ms: round(monotonicMs() - this.started) };
  }

  get registry(): ControlBlock {
    return this.#registry;
  }
}

/** The name a thread's own handle has, when this thread started it (the slot keeps 63 characters). */
function fullName(slot: number, threadId: number, stored: string): string {
  for (const thread of runningThreads) if (thread.slot === slot && thread.threadId === threadId) return thread.name;
  return stored;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function forcedRecords(
  run: Run,
  stuck: readonly Watched[],
  stacks: ReadonlyMap<number, string>,
  missing = NO_STACK,
): TerminatedThreadRecord[] {
  const now = monotonicMs();
  return stuck.map((watched) => {
    const report = readSlotReport(run.registry, watched.ref);
    return {
      name: watched.name,
      threadId: watched.threadId,
      ms: round(now - watched.since),
      inCriticalSection: report?.inCriticalSection ?? false,
      checkedSinceInterrupt: report?.checkedSinceInterrupt ?? false,
      stack: stacks.get(watched.threadId) ?? missing,
    };
  });
}

function validateOptions(options: unknown): { graceMs: number; reason: unknown } {
  if (options === undefined) return { graceMs: DEFAULT_GRACE_MS, reason: 'shutdown' };
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { graceMs, reason } = options as ShutdownOptions;
  return {
    graceMs: graceMs === undefined ? DEFAULT_GRACE_MS : validateTimeout(graceMs, 'options.graceMs'),
    reason: 'reason' in options ? reason : 'shutdown',
  };
}

function groupRegistry(): ControlBlock | undefined {
  if (state.managed) {
    throw codedError(
      Error,
      'ERR_SHUTDOWN_FROM_THREAD',
      `shutdown() stops every thread of a group, so it runs in the thread that started the group (the main thread, or the plain Worker that started the threads), not in thread "${state.name}". Interrupt what this thread started with thread.interrupt(), or return from this thread and let its parent shut down.`,
    );
  }
  return state.registry;
}

/**
 * Stops every thread the program started, gracefully: interrupts all of them at once (threads
 * started by threads included), waits up to `graceMs` for them to end (their `finally` blocks,
 * sync and async, run), then terminates the ones still running and reports where each was
 * stuck. It does not exit the process: the close path of a server, say, calls it and goes on.
 * The same sequence runs by itself on SIGINT, SIGTERM and SIGHUP, on `process.exit()` and on an
 * uncaught error (see {@link configureShutdown}).
 *
 * Call it from the main thread (or the plain `Worker` that started the threads). A second call
 * finds nobody left.
 *
 * @returns the threads that ended and the ones terminated, with how long each took.
 * @throws `Error` with code `ERR_SHUTDOWN_FROM_THREAD` (as a rejection) when called in a thread this
 *   library started; `TypeError`/`RangeError` for bad options.
 * @example
 * ```ts
 * server.close();
 * const report = await shutdown({ graceMs: 10_000, reason: 'server closing' });
 * console.log(`${report.ended.length} threads ended, ${report.terminated.length} forced`);
 * ```
 */
export async function shutdown(options?: ShutdownOptions): Promise<ShutdownReport> {
  const { graceMs, reason } = validateOptions(options);
  const registry = groupRegistry();
  const bytes = reason === undefined ? undefined : encodeReason(reason);
  if (registry === undefined) return { ended: [], terminated: [], ms: 0 };
  return runShutdown(registry, bytes, graceMs, { forceNow: undefined });
}

/** Lets a caller cut the grace period short (a second Ctrl-C). */
export interface ForceSwitch {
  forceNow: (() => void) | undefined;
}

/**
 * @internal The asynchronous sequence, for `shutdown()` and the signal handlers (`exiting`: the
 * process exits right after). `rehearsal`: run by {@link rehearseShutdown}, it leaves the pools alone.
 */
export async function runShutdown(
  registry: ControlBlock,
  reason: Uint8Array | undefined,
  graceMs: number,
  force: ForceSwitch,
  exiting = false,
  onForced?: () => void,
  rehearsal = false,
): Promise<ShutdownReport> {
  const run = new Run(registry, reason, false, !exiting);
  const deadline = run.started + graceMs;
  // Not marked 'exiting' (which lets a thread end as its target settles): on a signal each thread
  // ends as Node ends it, once its event loop empties, so that what its cleanup started without
  // awaiting it (a callback write, a timer) is done too. Only the process's 'exit', which cuts
  // that off anyway, marks it (runShutdownSync).
  // A pool's worker that was running a task ends only once this thread's event loop has read
  // that task's end (the pool then retires it): no blocked wait with pools.
  const blocked = exiting && !rehearsal && !poolsOpen();
  // Pools first: their queued tasks are dropped (ERR_POOL_CLOSED), their running ones
  // interrupted, and their idle workers, which would otherwise wait for a task, told to end.
  if (!rehearsal) void closeAllPools({ cancel: true }).catch(() => {});
  // Then every thread at once, before anything else here.
  endWaiters++;
  let seen = run.counter();
  run.scan();
  let forced = false;
  let wake: (() => void) | undefined;
  // A pending Atomics.waitAsync keeps no event loop alive (nodejs/node#61941), and pool workers
  // are unreferenced: without this, the process could end in the middle of their cleanup.
  const keepAlive = createKeepAlive();
  keepAlive.ref();
  force.forceNow = () => {
    forced = true;
    onForced?.();
    wake?.();
  };
  try {
    // The process exits next: first, for up to BLOCKED_WAIT_MS, the wait blocks this thread
    // rather than awaiting in its event loop. Each thread's worker, once torn down, is an event
    // of this loop (Node joins its OS thread, then emits its 'exit', which the Thread handle
    // reads): awaiting, this thread ran those of the threads that ended first, one by one, before
    // it saw the last end (64 threads: 20-65 of them, main-thread CPU 8.2 ms against 2.7 ms
    // blocked, Node 26), where the exit stops the rest without running JavaScript. What needs
    // this thread's loop waits for the async wait below: a thread that finished with output on
    // its way (Node keeps it alive until this thread has read that output) ends the blocked
    // wait at once; other cleanups that wait for this thread (a reply to a message, a second
    // signal) wait at most BLOCKED_WAIT_MS.
    if (blocked) {
      const until = Math.min(deadline, run.started + blockedWaitMs());
      for (;;) {
        const left = until - monotonicMs();
        if (run.settled || left <= 0 || run.outputWaits()) break;
        run.wakeWhenAllEnded();
        Atomics.wait(registry.words, END_COUNTER_INDEX, seen, Math.min(left, BLOCKED_SLICE_MS));
        seen = run.counter();
        run.scan();
      }
    }
    for (;;) {
      const left = deadline - monotonicMs();
      if (run.settled || left <= 0 || forced) break;
      run.wakeWhenAllEnded();
      const { async, value } = Atomics.waitAsync(
        registry.words,
        END_COUNTER_INDEX,
        seen,
        Math.min(left, waitSliceMs()),
      );
      // The executor parenthesized: compiled with runShutdown, in its rehearsal (which settles
      // before any wait), not on a signal's first wait.
      // biome-ignore format: the parentheses are V8's eager-compilation hint
      // biome-ignore lint/complexity/useArrowFunction: a parenthesized arrow is no eager-compilation hint on Node 20
      if (async) await Promise.race([value, new Promise<void>((function (resolve) { wake = resolve; }))]);
      seen = run.counter();
      run.scan();
    }
  } finally {
    force.forceNow = undefined;
    keepAlive.close();
    endWaiters--;
    setEndTarget(registry, 0);
  }
  let terminated: TerminatedThreadRecord[] = [];
  if (!run.settled) {
    const stuck = run.stuck();
    const stacks = await captureStacks(
      stuck.map((watched) => watched.threadId).filter((id) => id >= 0),
      STACK_BUDGET_MS,
    );
    terminated = forcedRecords(run, stuck, stacks);
    await Promise.all([...runningThreads].map((thread) => thread.terminate()));
  } else if (exiting) {
    // The process exits next, which stops every worker: tearing each down first would only
    // delay it (64 threads: +100-300 ms here). But what a thread printed, and the failure of one
    // that nobody joins (reported here, with its worker's end), reach this thread only with its
    // worker's end: one turn of the event loop was not always enough (a failure nobody joined
    // went unreported in most runs, a write from a thread's 'exit' listener was lost in some).
    // So the ends of those threads, and only theirs, are awaited, within the grace period.
    const unread = run.unreadSlots();
    const ends = [...runningThreads].filter((thread) => unread.has(thread.slot)).map((thread) => thread.exited);
    if (ends.length > 0) await endsOrDeadline(ends, deadline, force, onForced);
    else if (unread.size > 0) await new Promise((resolve) => setImmediate(resolve));
  } else {
    // Every thread has ended its last event; its handle settles once Node has torn its worker
    // down and the parent has read what it wrote to stdout and stderr.
    await Promise.all([...runningThreads].map((thread) => thread.exited));
  }
  return run.report(terminated);
}

/**
 * @internal Runs once what a signal's shutdown runs in this thread between the signal and the
 * threads' interrupts, and between their ends and the exit (a Run's scans, the interrupt with a
 * reason, the bookkeeping of an end, the report, then runShutdown itself and the keep-alive it
 * holds), on a control block of its own whose one slot no thread holds: nothing is interrupted,
 * counted, closed or kept alive. V8 compiles a function on its first call; left to the signal,
 * those compilations fall on its way (0.3-0.7 ms on Node 24 and 26, runShutdown's 0.3 ms of it
 * before the first interrupt).
 * Parenthesizing them instead would compile them in every thread that loads this file, and as it
 * loads.
 */
export function rehearseShutdown(): void {
  const block = createControlBlock(1);
  const ref = allocateSlot(block, undefined);
  if (ref === undefined) return;
  // As on a signal: a reason, and not hurried (the process exits next).
  const run = new Run(block, encodeReason('SIGINT'), false, false);
  run.counter();
  run.scan();
  run.wakeWhenAllEnded();
  run.outputWaits(); // the blocked wait's look, with its one thread running
  poolsOpen();
  blockedWaitMs();
  markEnded(block, ref, 0);
  run.counter();
  run.scan();
  if (run.settled) run.unreadSlots();
  run.report([]);
  setEndTarget(block, 0);
  // And the sequence itself, on that block with its one slot ended: nothing to interrupt, wait
  // for or close (not the program's pools), and it settles at once, without awaiting anything.
  // Its promise caught: a failure here must not become the program's unhandled rejection.
  runShutdown(block, encodeReason('SIGINT'), 0, { forceNow: undefined }, true, undefined, true).catch(() => {});
  waitSliceMs(); // which that settled sequence does not reach
}

/** Resolves once every end has come, the deadline has passed, or the shutdown is forced. */
async function endsOrDeadline(
  ends: Promise<void>[],
  deadline: number,
  force: ForceSwitch,
  onForced: (() => void) | undefined,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Referenced: should the threads be unreferenced, the process must not end of itself (with
  // code 0) before their ends come. A timer cannot wait longer than 2^31 - 1 ms (graceMs may be
  // Infinity): past that, a keep-alive holds the process instead.
  const keepAlive = createKeepAlive();
  try {
    await Promise.race([
      Promise.all(ends),
      new Promise<void>((resolve) => {
        const left = Math.max(0, deadline - monotonicMs());
        if (left <= MAX_TIMER_MS) timer = setTimeout(resolve, left);
        else keepAlive.ref();
        force.forceNow = () => {
          onForced?.();
          resolve();
        };
      }),
    ]);
  } finally {
    clearTimeout(timer);
    keepAlive.close();
    force.forceNow = undefined;
  }
}

/** The longest delay setTimeout() takes as it is (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * @internal The same, blocking, for the process's `'exit'` listeners, which cannot await: the
 * threads' event loops run on while the main thread blocks. The stuck threads' stacks come from
 * Node's diagnostic report (synchronous). Terminating is left to the process's exit, which ends
 * every thread.
 */
export function runShutdownSync(
  registry: ControlBlock,
  reason: Uint8Array | undefined,
  graceMs: number,
): ShutdownReport {
  const run = new Run(registry, reason, true);
  const deadline = run.started + graceMs;
  markGroupExiting(registry);
  endWaiters++;
  try {
    for (;;) {
      const seen = run.counter();
      run.scan();
      const left = deadline - monotonicMs();
      if (run.settled || left <= 0) break;
      run.wakeWhenAllEnded();
      Atomics.wait(registry.words, END_COUNTER_INDEX, seen, Math.min(left, waitSliceMs()));
    }
  } finally {
    endWaiters--;
    setEndTarget(registry, 0);
  }
  if (run.settled) return run.report([]);
  const stuck = run.stuck();
  const stacks = reportStacks(stuck.map((watched) => watched.threadId).filter((id) => id >= 0));
  return run.report(forcedRecords(run, stuck, stacks, NO_STACK_AT_EXIT));
}
