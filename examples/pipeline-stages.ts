// The threads of the pipeline example: a producer that puts items into a Queue until it is
// interrupted, and consumers that take them until the queue is closed and drained.
import type { Queue } from 'graceful-threads';

/** What travels through the queue. */
export interface Job {
  readonly id: number;
  readonly text: string;
}

/**
 * Puts jobs into `queue` until the thread is interrupted: `put()` is an interruption point (it
 * blocks while the queue is full, and an interrupt ends the wait without putting anything).
 * Closing the queue on the way out tells the consumers that no more will come.
 * counters[0] counts the jobs put.
 */
export function produce(queue: Queue<Job>, counters: Int32Array): void {
  try {
    for (let id = 0; ; id++) {
      queue.put({ id, text: `job ${id}` });
      Atomics.add(counters, 0, 1);
    }
  } finally {
    queue.close();
  }
}

/**
 * Takes jobs until the queue is closed and empty: a `for...of` over a queue blocks for the next
 * item and ends once it is closed and drained, so nothing put is left behind. Returns how many
 * it handled; counters[1] counts them across consumers.
 */
export function consume(queue: Queue<Job>, counters: Int32Array): number {
  let handled = 0;
  for (const job of queue) {
    let hash = 0;
    for (let i = 0; i < job.text.length; i++) hash = (hash * 31 + job.text.charCodeAt(i)) | 0;
    if (hash === 42) console.log('lucky job', job.id);
    handled++;
    Atomics.add(counters, 1, 1);
  }
  return handled;
}
