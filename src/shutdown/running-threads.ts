/**
 * The threads the calling thread has started and that have not ended yet: what a shutdown can
 * terminate (a thread can terminate only the workers it started; Node ends a worker's own
 * workers with it).
 */

/** What a shutdown needs of a running thread's handle. */
export interface RunningThread {
  readonly name: string;
  readonly threadId: number;
  /** Its slot in the group's registry. */
  readonly slot: number;
  terminate(): Promise<void>;
  /** Stops a worker whose thread has ended (its last event has run): skips its slow wind-down. */
  hurry(): void;
  /** Settles (never rejects) once its worker has exited. */
  readonly exited: Promise<void>;
}

/** Added to by `start()`, removed from when the thread's worker exits. */
export const runningThreads: Set<RunningThread> = new Set();
