import { sleep } from 'graceful-threads';

export default function worker(sync) {
  Atomics.store(sync, 0, 1);
  Atomics.notify(sync, 0);
  sleep(60_000);
  return 'slept to the end';
}
