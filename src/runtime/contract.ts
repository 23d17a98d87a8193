/**
 * The types both runtime adapters share (./node.ts and its browser twin ./browser.ts, which the
 * browser build puts in its place): what the rest of the package hands to, or gets from, either.
 * Each adapter's own types (its `MessagePort`, its `Worker`) stay with it.
 */

/**
 * A handle that keeps the thread alive while it has more `ref()`s than `unref()`s (a Node
 * thread's event loop; a browser's worker lives until its target settles whatever it holds).
 */
export interface KeepAlive {
  ref(): void;
  unref(): void;
  close(): void;
}

/** The private channel a thread reports its outcome on, as its spawner holds it. */
export interface ReportChannel<Port> {
  /** The end to hand to the thread (in its start data and transfer list). */
  readonly threadEnd: Port;
  /** The messages the thread posted and nobody has read yet. */
  takeAll(): unknown[];
  close(): void;
}

/** What the spawner of a worker hears from it. */
export interface WorkerEvents {
  /** An uncaught error in the worker. */
  onError(error: unknown): void;
  /** The worker has stopped. */
  onExit(exitCode: number): void;
  /**
   * Whether the thread has said, in shared memory, that its target settled: its outcome is then
   * on its way on its report channel (a browser's `terminate()` waits for it; Node need not).
   */
  targetSettled?(): boolean;
  /**
   * Whether the thread has said, in shared memory, that it has ended: everything it posted is
   * then on its way, its end last (a browser's `terminate()` waits for it; Node need not).
   */
  threadEnded?(): boolean;
}
