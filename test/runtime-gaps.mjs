// What the suite does not run on Bun and Deno (scripts/test-runtime.mjs): whole files, and
// single tests by their full name ("describe > it"), each with why and the runtime's issue
// behind it. The README's "Runtime support" lists the same. Deno's runner filters only by the
// outermost describe(): a Deno gap leaves that whole block out there (the block says which test
// of it fails).

const bun = {
  elu: "the test's proof that a thread stays alive reads `worker.performance.eventLoopUtilization()`, a stub on Bun (oven-sh/bun#32609); checked by hand: the thread stays alive and ends on its interrupt",
  inspector:
    "the stacks of stuck threads come from node:inspector's Session, which Bun does not implement (oven-sh/bun#2445); the shutdown itself runs",
  serializer:
    "Bun has no node:v8 Serializer (oven-sh/bun#12838: it throws ERR_NOT_IMPLEMENTED): reasons go through bun:jsc's structured clone, whose bytes are not V8's and which drops an error's `cause`, so a string reason loads the codec and a DOMException or a cycle through `cause` comes back otherwise",
  resource: "`resourceLimits` is not passed on to Bun's workers (oven-sh/bun#31411)",
  broadcast:
    'a queue item holding a shared object takes a side path over a BroadcastChannel between the threads, which does not arrive on Bun 1.4.4 (not diagnosed further; no Bun issue found yet)',
  abort:
    "Node's APIs reject with an AbortError whose `cause` is the reason; Bun's reject with a plain AbortError, or do not stop a pending read (not diagnosed further; no Bun issue found yet)",
  errors:
    "how Bun reports an uncaught error (its own format, not `Error: message`) and when a thread's late uncaught error reaches joinSync() (not diagnosed further; no Bun issue found yet)",
};

export const gaps = {
  bun: {
    files: {},
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
      'Thread: start and join > passes Worker options such as env and resourceLimits on to Node': bun.resource,
      'Thread: the signal option > gives a deadline with AbortSignal.timeout(): the reason arrives as the TimeoutError DOMException':
        bun.serializer,
      'async I/O given interruptionSignal(), interrupted while pending in a thread > a FIFO opened non-blocking and read through a net.Socket is destroyed and closes its fd at once':
        bun.abort,
      "async I/O given interruptionSignal(), interrupted while pending in a thread > fetch rejects with the ThreadInterruptedError, and the server sees the request's socket close":
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
      'interruptionSignal() > keeps a returned result when a stray abortable promise rejects afterwards': bun.abort,
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
      'shutdown on exit > a stuck thread on process.exit(): reported with its stack, exit code kept': bun.inspector,
      'shutdown on exit > an uncaught exception: threads clean up, Node reports it and exits 1': bun.errors,
      "shutdown() > terminates a pool's worker whose task ignores the interrupt, and closes the pool": bun.inspector,
      'shutdown() > terminates what ignores it after graceMs, saying where it was stuck and why': bun.inspector,
      'the lazily loaded half of the package > stays unloaded when the reason is a string, as a shutdown sends':
        bun.serializer,
      'the module a thread is given > says so when a .ts file sits beside the missing .js': bun.errors,
      'thread.joinSync() > throws the uncaught error a thread died of after its target returned': bun.errors,
      'thread.joinSync() and the end of the thread > agrees with join() when the thread handles an uncaught error itself':
        bun.errors,
    },
  },
  deno: { files: {}, tests: {} },
};
