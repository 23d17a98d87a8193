// What the suite does not run on Bun and Deno (scripts/test-runtime.mjs): whole files, and
// single tests by their full name ("describe > it"), each with why and the runtime's issue
// behind it, or where none was found a reproduction to file (docs/upstream/). The README's
// "Runtime support" lists the same. On Deno an it() whose own name is
// listed is not registered (scripts/deno-node-test.mjs); on Bun they are filtered out by name.

const bun = {
  elu: "the test's proof that a thread stays alive reads `worker.performance.eventLoopUtilization()`, a stub on Bun (oven-sh/bun#32609); checked by hand: the thread stays alive and ends on its interrupt",
  inspector:
    "the stacks of stuck threads come from node:inspector's Session, which reaches workers through the NodeWorker domain: Bun 1.4.4's Session answers NodeWorker.enable with 'not supported on the main thread yet' (node:inspector: oven-sh/bun#2445, open); the shutdown itself runs",
  serializer:
    "Bun has no node:v8 Serializer (oven-sh/bun#12838: it throws ERR_NOT_IMPLEMENTED): reasons go through bun:jsc's structured clone, whose bytes are not V8's and which drops an error's `cause`, so a string reason loads the codec and a DOMException or a cycle through `cause` comes back otherwise",
  resource: "`resourceLimits` is not passed on to Bun's workers (oven-sh/bun#31411)",
  broadcast:
    "a queue item holding a shared object takes a side path over a BroadcastChannel, which Bun's receiveMessageOnPort() does not read (it returns undefined for a BroadcastChannel, whose port Node reads; Bun's binding says `TODO: support broadcast channels`): a thread blocked in the queue never sees it; an idle thread's event loop does get it (onmessage). No Bun issue found: docs/upstream/receive-message-on-port-broadcast-channel.mjs reproduces it. A relay worker handing each thread a MessagePort (which Bun reads synchronously) carried it, but cost every process that starts a thread one more worker (+3.6 MiB RSS), so it was not kept",
  abort:
    "Node's APIs given the signal reject as on Node (an AbortError whose `cause` is the reason), but what these tests check beside it differs: process.getActiveResourcesInfo() always returns [] on Bun (oven-sh/bun#24538), which the timer and FIFO-read tests read to see a pending timer or fs request; and a net.Socket made on a FIFO's fd is destroyed but leaves the fd open (Bun's Socket({ fd }) has no pipe handle: oven-sh/bun#29141, open)",
  errors:
    "under `bun test`, which runs the suite, a worker's 'uncaughtExceptionMonitor' and 'uncaughtException' listeners and its capture callback never run, and a worker that dies of an uncaught error or an unhandled rejection exits 0 (oven-sh/bun#36445, open): the library reads the error there for joinSync(), a thread that handles its own dies of it, and a stray rejection caused by the interruption does not end the thread as interrupted. Run with plain `bun`, the same threads behave as on Node (checked by hand)",
  stdoutDrain:
    "a shutdown on a signal waits for stdout to drain before it exits, which it learns from `writableLength` and 'drain': Bun's main-thread stdout says 0 while its bytes still wait for a slow reader of a pipe, and a Bun worker writes to the descriptor itself (no parent in between), so the exit still drops what the reader has not taken (730 of 2,048 KiB in the test; no Bun issue found: docs/upstream/bun-stdout-writable-length-pipe.mjs)",
  outputWatch:
    "a thread's output counts as unread once a chunk reaches its stdout's or stderr's `_write`; the library watches that through the getter Node defines for `process.stdout` in a worker, which is a plain property on Bun, so there every thread counts as having written and a signal's shutdown waits for each worker's teardown in its event loop, as before, and not blocked (costs time, loses nothing)",
  tsBesideJs:
    'Bun resolves a module named `x.js` to `x.ts` when only that exists (its documented module resolution: https://bun.com/docs/runtime/module-resolution), so the thread runs the .ts file instead of failing',
  report:
    "the stacks of stuck threads in the process's 'exit' event come from Node's diagnostic report (process.report.getReport(), whose `workers` section holds each worker's JavaScript stack): the library does not ask for it on this runtime, whose process.report it does not rely on for workers' stacks (not yet checked against it), so there the report says 'stack not available'; the shutdown itself runs",
};

const deno = {
  terminate:
    "Deno's worker.terminate() resolves, and the worker's 'exit' comes, while the worker's JavaScript still runs: a worker in a loop runs on for seconds and more (denoland/deno#35657, a fix under review, reports the same on 2.9.4). The library frees the thread's slot on 'exit', so a terminated thread looping interruptAllThreads() goes on interrupting from a slot another thread may hold by then, a pool's worker replaced after cancelGraceMs keeps its task running, and a waiter terminated while parked in a lock wakes on its old slot's park word and may take the lock from the thread now in that slot",
  elu: "the test's proof that a thread stays alive (or ends) reads `worker.performance.eventLoopUtilization()`, which Deno's workers lack (denoland/deno#35150)",
  broadcast:
    "a queue item holding a shared object takes a side path over a BroadcastChannel, which Deno's receiveMessageOnPort() does not read (it throws ERR_INVALID_ARG_TYPE for anything but a MessagePort): only an idle thread's event loop delivers it. No Deno issue found: docs/upstream/receive-message-on-port-broadcast-channel.mjs reproduces it. A relay worker handing each thread a MessagePort (which Deno reads synchronously) carried it, but cost every process that starts a thread one more worker (+12 MiB RSS), so it was not kept",
  signals:
    "shutdowns on a signal, run in a child Deno process that the test drives through node:child_process: once child.kill() has been called, Deno reports the child's end as killed by that signal (code null) whatever code it exited with (130 after its cleanup, even 0), and a second child.kill() is not sent (it returns false; denoland/deno#36643, closed after 2.9.5); run by hand, the demo exits with 130 as on Node",
  beforeExit:
    "Deno emits no 'beforeExit' in a worker whose event loop empties, only 'exit' (no Deno issue found: docs/upstream/deno-worker-before-exit.mjs): a target that a 'beforeExit' listener would settle is reported unsettled (the library tells from that natural 'exit' that nothing can settle it)",
  unsettledModule:
    "a worker whose module's top-level await never settles (or that awaits import() of such a module) never ends on Deno: no 'exit' in it or at its parent, and the process does not exit (no Deno issue found: docs/upstream/deno-worker-unsettled-top-level-await.mjs)",
  signalOption:
    "addEventListener(type, listener, { signal }) on Deno adds a plain 'abort' listener to the signal for its cleanup, where Node adds one marked weak, which the library does not count as waiting for the interruption: on Deno it keeps the thread alive until interrupted",
  abort:
    "Node's own APIs reject with an AbortError whose `cause` is the reason; on Deno events.once rejects with an AbortError without `cause` (docs/upstream/deno-events-once-abort-cause.mjs; so an escaping one does not end the thread as interrupted), and fs/promises readFile given an aborted signal with the reason itself (docs/upstream/deno-fs-promises-readfile-aborted-signal.mjs). The FIFO tests: a FIFO read stream stops at the abort as on Node, but process.getActiveResourcesInfo(), which the test reads to see its read pending, lists no pending fs read (docs/upstream/deno-active-resources-pending-fs-read.mjs), and net.Socket({ fd }) refuses a descriptor node:fs opened (EEXIST: docs/upstream/deno-net-socket-fd-from-fs-open.mjs). No Deno issue found for any of them",
  protocol:
    "the protocol-interleavings harness kills participants between two steps with worker.terminate(), which on Deno does not stop the worker's JavaScript (it runs on after 'exit'; denoland/deno#35657)",
  inspector:
    "the stacks of stuck threads in a shutdown report come from node:inspector's Session, which reaches workers through the NodeWorker domain: Deno's answers NodeWorker.enable with -32601 (it has that domain only for a debugger attached with --inspect; no Deno issue found: docs/upstream/deno-inspector-session-node-worker.mjs), so the report says 'stack not available'; the shutdown itself runs",
  tsx: "tsx's `--import` in a thread's execArgv: Deno refuses the flag in a worker (ERR_WORKER_INVALID_EXEC_ARGV)",
  revokedProxy:
    "Deno's util.inspect() throws on a revoked Proxy where Node prints `<Revoked Proxy>` (denoland/deno#33642, a fix open), so a thrown revoked proxy is described as `[uncloneable object]`",
  blockList:
    'structuredClone() on Deno copies a net.BlockList as a plain object (Node keeps the class; docs/upstream/deno-structured-clone-blocklist.mjs), and so does the codec of interrupt reasons, which then has nothing to refuse',
  sloppyImports:
    'the suite runs Deno with --sloppy-imports (the tests import src/*.ts by their .js names), under which Deno resolves `x.js` to `x.ts` when only that exists, so the thread runs the .ts file instead of failing',
  report:
    "the stacks of stuck threads in the process's 'exit' event come from Node's diagnostic report (process.report.getReport(), whose `workers` section holds each worker's JavaScript stack): the library does not ask for it on this runtime, whose process.report it does not rely on for workers' stacks (not yet checked against it), so there the report says 'stack not available'; the shutdown itself runs",
};

// asyncInterrupt instruments a thread's modules through Node's module hooks (module.registerHooks):
// the option throws ERR_ASYNC_INTERRUPT_UNAVAILABLE on Bun and Deno (test/package.test.ts checks
// that on Bun).
const noModuleHooks = {
  bun: "asyncInterrupt needs Node's module customization hooks, which Bun does not have (module.registerHooks: oven-sh/bun#27369, open): the option throws ERR_ASYNC_INTERRUPT_UNAVAILABLE",
  deno: 'asyncInterrupt needs module.registerHooks, which Deno has since 2.8 (its load hook sees the ES modules of a worker too, checked by hand on 2.9.6); let through on Deno 2.9.6, 20 of the 25 tests of test/async-interrupt.test.ts time out, their interrupts never landing (not diagnosed further): the option throws ERR_ASYNC_INTERRUPT_UNAVAILABLE',
};

// Both: the exit watchdog is a preload of Node's own test runner (`node --test`); on Bun and Deno
// scripts/test-runtime.mjs runs each file in a process of its own instead.
const nodeRunnerOnly =
  "the exit watchdog (test/exit-watchdog.mjs) is a preload of Node's test runner, which this runtime's suite does not use (scripts/test-runtime.mjs runs each file in a process of its own)";

export const gaps = {
  bun: {
    files: {
      'test/async-interrupt.test.ts': noModuleHooks.bun,
      'test/exit-watchdog.test.ts': nodeRunnerOnly,
      'test/report-stacks.test.ts': bun.report,
    },
    tests: {
      'Queue > shared objects as items > a Lock, a Queue and a SharedArrayBuffer in an item arrive sharing their state':
        bun.broadcast,
      'Queue > shared objects as items > reach a thread that got the queue while they were put, from a holder blocked in the same queue':
        bun.broadcast,
      'Queue > shared objects as items > reach a thread that got the queue while they were put: it asks, an idle holder answers':
        bun.broadcast,
      'Queue > shared objects as items > reach a thread that had the queue when they were put, though their putter has ended':
        bun.broadcast,
      'Queue: a side-path item reaches a thread that gets the queue later > even when its putter has ended and the main thread blocks in joinSync()':
        bun.broadcast,
      "Queue: mixed streams between racing threads > 2 -> 2 through a capacity of 8: 12000 items, a fifth holding a SharedArrayBuffer (the side path), each once, each producer's in order":
        bun.broadcast,
      'Thread: start and join > passes Worker options such as env and resourceLimits on to Node': bun.resource,
      'shutdown on a signal > what threads print as they end reaches a slow reader of stdout whole before the exit':
        bun.stdoutDrain,
      "shutdown on a signal > waits for the threads' ends blocked: it runs none of their workers' 'exit' events before the exit":
        bun.outputWatch,
      "a thread's end, as read or not by its parent > is not unread when the thread wrote nothing, though Node read its stdout and stderr on its way out":
        bun.outputWatch,
      'shutdown on a signal > a reader of stdout that goes away while the shutdown waits for it to drain: still exit 130':
        bun.stdoutDrain,
      'Thread: the signal option > gives a deadline with AbortSignal.timeout(): the reason arrives as the TimeoutError DOMException':
        bun.serializer,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > a FIFO opened non-blocking and read through a net.Socket is destroyed and closes its fd at once':
        bun.abort,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > fs.createReadStream of a silent FIFO: the wait ends at once, the fd closes only when the blocked read returns':
        bun.abort,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > timers/promises setTimeout rejects and clears its timer':
        bun.abort,
      'decodeStringReason > reads every string as the codec does: 2,000 random ones, long, empty, Latin-1 and not':
        bun.serializer,
      'errors crossing threads: classes > rebuilds a DOMException with its name, code, message and stack':
        bun.serializer,
      'interrupt reasons: decoded as structuredClone copies them > reads back an error that is its own cause, or refuses it where V8 cannot (Node 20)':
        bun.serializer,
      'interrupt reasons: in a real thread > delivers AbortSignal.timeout()’s reason as a DOMException TimeoutError with code 23':
        bun.serializer,
      'interrupt reasons: in a real thread > delivers a DOMException nested in an error’s cause': bun.serializer,
      "interruptible() > in a thread, rejects with the signal's ThreadInterruptedError; a pending call keeps the thread alive":
        bun.elu,
      'interruptionSignal() > aborts in a thread whose only pending work is waiting for it': bun.elu,
      'interruptionSignal() > keeps a returned result when a stray abortable promise rejects afterwards': bun.errors,
      'interruptionSignal() > keeps the thread alive for a second watcher while the first one lets go': bun.elu,
      'interruptionSignal() and the thread’s lifetime > ends a thread as if nothing had listened once its listener is gone (options.signal)':
        bun.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (addEventListener)':
        bun.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (events.once)':
        bun.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (onabort)':
        bun.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (unref timer)':
        bun.elu,
      'shutdown on a signal > a second SIGINT during the grace period forces at once': bun.inspector,
      'shutdown on a signal > a stuck thread is terminated after graceMs and reported: name, critical section, stack':
        bun.inspector,
      "shutdown() > terminates a pool's worker whose task ignores the interrupt, and closes the pool": bun.inspector,
      'shutdown() > terminates what ignores it after graceMs, saying where it was stuck and why': bun.inspector,
      'the lazily loaded half of the package > stays unloaded when the reason is a string, as a shutdown sends':
        bun.serializer,
      'the module a thread is given > says so when a .ts file sits beside the missing .js': bun.tsBesideJs,
      'thread.joinSync() > throws the uncaught error a thread died of after its target returned': bun.errors,
      'thread.joinSync() and the end of the thread > an error a capture callback handled is not what a thread that later exits died of, for either join':
        bun.errors,
      'encodeStringReason > writes a Latin-1 string as V8 writes a one-byte string: the codec and the fast reader read it back':
        bun.serializer,
      'thread.joinSync() and the end of the thread > agrees with join() when the thread handles an uncaught error itself':
        bun.errors,
    },
  },
  deno: {
    files: {
      'test/async-interrupt.test.ts': noModuleHooks.deno,
      'test/async-interrupt-cache.test.ts': noModuleHooks.deno,
      'test/exit-watchdog.test.ts': nodeRunnerOnly,
      'test/report-stacks.test.ts': deno.report,
    },
    tests: {
      'waits under stress > waiters terminated while parked leave the lock working for the threads that reuse their slots':
        deno.terminate,
      'the protocol under real threads > a sleeper always wakes when an interrupter looping interruptAllThreads() is terminated at a random moment':
        deno.terminate,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (events.once)':
        deno.elu,
      'shutdown on a signal > a second SIGINT during the grace period forces at once': deno.signals,
      'shutdown on a signal > with two copies of the package starting threads, one shutdown runs: every cleanup completes, then exit 130':
        deno.signals,
      'shutdown on a signal > a failed cleanup that nobody joins is reported, for every thread, before the exit':
        deno.signals,
      'shutdown on a signal > a failed cleanup (with a grace period longer than a timer can wait) that nobody joins is reported, for every thread, before the exit':
        deno.signals,
      'shutdown on a signal > a thread exiting in its cleanup that nobody joins is reported, for every thread, before the exit':
        deno.signals,
      'shutdown on a signal > with two copies of the package, the settings made through either are the ones the shutdown uses':
        deno.signals,
      'shutdown on a signal > what threads print as they end reaches a slow reader of stdout whole before the exit':
        deno.signals,
      'shutdown on a signal > a reader of stdout that goes away while the shutdown waits for it to drain: still exit 130':
        deno.signals,
      "shutdown on a signal > exits with the signal's code when stdout holds bytes that can never leave (corked) and nothing else holds the process":
        deno.signals,
      "shutdown on a signal > what threads print from their own 'exit' listeners reaches stdout before the exit":
        deno.signals,
      "shutdown on a signal > waits for the threads' ends blocked: it runs none of their workers' 'exit' events before the exit":
        deno.signals,
      'shutdown on a signal > a thread whose cleanup prints ends the blocked wait at once: its output needs the main thread':
        deno.signals,
      "shutdown on a signal > with a pool, no blocked wait: its worker's task ends only once the main thread reads it":
        deno.signals,
      'shutdown on a signal > a cleanup that did not await its write (a timer) still writes it whole before the process exits':
        deno.signals,
      'shutdown on exit > a signal while the exit waits for a stuck thread ends the process, as Node would':
        deno.signals,
      'shutdown on a signal > a SIGTERM during the grace period of a SIGINT forces at once too; the exit code stays 130':
        deno.signals,
      'shutdown on a signal > so does a process.prependOnceListener() added after the threads started, gone when the library looks':
        deno.signals,
      "shutdown on a signal > does not read the global performance between the signal and the exit (its first read loads Node's perf_hooks)":
        deno.signals,
      'APIs given interruptionSignal() in an interrupted thread > a thread that lets the rejection of events.once escape ends as interrupted':
        deno.abort,
      'APIs given interruptionSignal() in an interrupted thread > events.once rejects with an AbortError whose cause is the ThreadInterruptedError':
        deno.abort,
      'APIs given interruptionSignal() in an interrupted thread > fs/promises readFile rejects with an AbortError whose cause is the ThreadInterruptedError':
        deno.abort,
      'Queue > shared objects as items > a Lock, a Queue and a SharedArrayBuffer in an item arrive sharing their state':
        deno.broadcast,
      'Queue > shared objects as items > reach a thread started after they were put': deno.broadcast,
      'Queue > shared objects as items > reach a thread that got the queue while they were put, from a holder blocked in the same queue':
        deno.broadcast,
      'Queue > shared objects as items > reach a thread that got the queue while they were put: it asks, an idle holder answers':
        deno.broadcast,
      'Queue > shared objects as items > reach a thread that had the queue when they were put, though their putter has ended':
        deno.broadcast,
      'Queue: a side-path item reaches a thread that gets the queue later > even when its putter has ended and the main thread blocks in joinSync()':
        deno.broadcast,
      "Queue: mixed streams between racing threads > 2 -> 2 through a capacity of 8: 12000 items, a fifth holding a SharedArrayBuffer (the side path), each once, each producer's in order":
        deno.broadcast,
      'Queue: mixed streams between racing threads > takers and putters terminated while parked leave the queue waking the threads that come after them':
        deno.terminate,
      'Thread: start and join > runs a TypeScript target through tsx where its hooks reach threads (Node 24, 26), with typed args and result':
        deno.tsx,
      'ThreadPool > replaces a worker whose task ignores the interrupt for cancelGraceMs, and runs the next task':
        deno.terminate,
      'ThreadPool > a replacement racing the end of a task that ignored its interrupt never runs the task behind it twice':
        deno.terminate,
      'a target whose promise never settles > rejects with ERR_THREAD_UNSETTLED when the module’s top-level await never settles':
        deno.unsettledModule,
      'a target whose promise never settles > resolves when work scheduled after the loop emptied settles it after all':
        deno.beforeExit,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > a FIFO opened non-blocking and read through a net.Socket is destroyed and closes its fd at once':
        deno.abort,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > events.once rejects and removes its listener':
        deno.abort,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > fs.createReadStream of a silent FIFO: the wait ends at once, the fd closes only when the blocked read returns':
        deno.abort,
      'errors crossing threads: what the library must survive > reports a revoked proxy as a description of it':
        deno.revokedProxy,
      'interrupt reasons: decoded as structuredClone copies them > refuses an object Node clones only through a MessagePort, naming it':
        deno.blockList,
      "interruptible() > in a thread, rejects with the signal's ThreadInterruptedError; a pending call keeps the thread alive":
        deno.elu,
      'interruptionSignal() > aborts in a thread whose only pending work is waiting for it': deno.elu,
      'interruptionSignal() > keeps the thread alive for a second watcher while the first one lets go': deno.elu,
      'interruptionSignal() and the thread’s lifetime > ends a thread as if nothing had listened once its listener is gone (a listener elsewhere, removed by the signal)':
        deno.signalOption,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (addEventListener)':
        deno.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (onabort)':
        deno.elu,
      'interruptionSignal() and the thread’s lifetime > keeps a thread awaiting only its interruption alive until interrupted (unref timer)':
        deno.elu,
      'protocol interleavings (seed 120188) > never lets a stalled or dead interrupter of an ended thread write into the reason of the next':
        deno.protocol,
      'protocol interleavings (seed 120188) > never sets the flag of a free slot or of the thread that reuses it (interruptAllThreads vs churn)':
        deno.protocol,
      'protocol interleavings (seed 120188) > releases exactly a dead parent’s children, even one it died claiming, never a stranger’s slot':
        deno.protocol,
      'protocol interleavings (seed 120188) > wakes a sleeper or a parked waiter whatever the interleaving, even when an interrupter dies between two steps':
        deno.protocol,
      "shutdown on a signal > SIGHUP: every thread's cleanup (sync, async, nested) completes, then exit 129":
        deno.signals,
      "shutdown on a signal > SIGINT: every thread's cleanup (sync, async, nested) completes, then exit 130":
        deno.signals,
      "shutdown on a signal > SIGTERM: every thread's cleanup (sync, async, nested) completes, then exit 143":
        deno.signals,
      "shutdown on a signal > a pool: its running task's cleanup completes, its idle worker does not hold the exit up":
        deno.signals,
      'shutdown on a signal > a program with its own SIGINT listener keeps control, and can call shutdown() itself':
        deno.signals,
      'shutdown on a signal > a stuck thread is terminated after graceMs and reported: name, critical section, stack':
        deno.signals,
      "shutdown() > terminates a pool's worker whose task ignores the interrupt, and closes the pool": deno.inspector,
      'shutdown() > terminates what ignores it after graceMs, saying where it was stuck and why': deno.inspector,
      'the demo > Ctrl-C with no handler in the demo: every thread prints its line, then exit 130': deno.signals,
      'the module a thread is given > says so when a .ts file sits beside the missing .js': deno.sloppyImports,
      'the pipeline example > stops on SIGINT with every job put handled, none lost': deno.signals,
    },
  },
};
