// events.once() given a signal that aborts: Node rejects with an AbortError whose `cause` is the
// signal's reason (lib/events.js: new AbortError(undefined, { cause: signal.reason })); Deno 2.9.6
// rejects with an AbortError without it (ext/node/polyfills/_events.mjs: new AbortError()).
//
//   node:  pending, then aborted: AbortError ABORT_ERR, cause is the reason: true
//          already aborted: AbortError ABORT_ERR, cause is the reason: true
//   deno:  pending, then aborted: AbortError ABORT_ERR, cause is the reason: false
//          already aborted: AbortError ABORT_ERR, cause is the reason: false
import { once } from 'node:events';

const reason = new Error('the reason');
const controller = new AbortController();
const pending = once(new EventTarget(), 'never', { signal: controller.signal });
controller.abort(reason);
for (const [label, promise] of [
  ['pending, then aborted', pending],
  ['already aborted', once(new EventTarget(), 'never', { signal: AbortSignal.abort(reason) })],
]) {
  try {
    await promise;
  } catch (error) {
    console.log(`${label}: ${error.name} ${error.code}, cause is the reason: ${error.cause === reason}`);
  }
}
