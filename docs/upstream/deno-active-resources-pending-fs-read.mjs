// process.getActiveResourcesInfo() while a read of a silent FIFO is pending: Node lists the
// pending fs request ('FSReqCallback'); Deno 2.9.6 lists timers (denoland/deno#35532) but not it.
// Linux (mkfifo).
//
//   node:  with a pending FIFO read: [ 'FSReqCallback', 'PipeWrap', 'PipeWrap' ]
//   deno:  with a pending FIFO read: []
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'active-repro-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const stream = createReadStream(fifo);
const [writer] = await Promise.all([open(fifo, 'w'), once(stream, 'ready')]);
stream.once('data', () => {}); // the stream reads; the read blocks, as the writer sends nothing
await new Promise((resolve) => setTimeout(resolve, 200));
console.log('with a pending FIFO read:', process.getActiveResourcesInfo());
stream.destroy();
await writer.close();
rmSync(dir, { recursive: true, force: true });
