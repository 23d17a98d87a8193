// Thread targets for bench/queue.js: the roles of ./queue-roles.js, each producer first checking
// that its queue arrived as a graceful-threads Queue.
import { Queue } from 'graceful-threads';
import { producer as produce } from './queue-roles.js';

export { consumer, waitingConsumer } from './queue-roles.js';

/** Puts `n` items a round, for `rounds` rounds. */
export function producer(controlBuffer, queue, kind, n, rounds) {
  if (!(queue instanceof Queue)) throw new TypeError('not a queue');
  produce(controlBuffer, queue, kind, n, rounds);
}
