// fs/promises readFile() given an aborted signal: Node rejects with an AbortError whose `cause`
// is the signal's reason; Deno 2.9.6 rejects with the reason itself (signal.throwIfAborted()).
//
//   node:  already aborted: AbortError ABORT_ERR, cause is the reason: true
//   deno:  already aborted: the reason itself, cause is the reason: false
import { readFile } from 'node:fs/promises';

const reason = new Error('the reason');
try {
  await readFile(new URL(import.meta.url), { signal: AbortSignal.abort(reason) });
} catch (error) {
  const what = error === reason ? 'the reason itself' : `${error.name} ${error.code}`;
  console.log(`already aborted: ${what}, cause is the reason: ${error.cause === reason}`);
}
