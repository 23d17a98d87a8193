// net.Socket({ fd }) on a descriptor node:fs opened: here a FIFO opened O_RDONLY | O_NONBLOCK,
// which Node reads through the event loop (the documented way to read a pipe without blocking a
// pool thread: nodejs/node#3628). Deno 2.9.6 refuses the descriptor with EEXIST (its Pipe.open
// rejects an fd node:fs already holds). Linux (mkfifo).
//
//   node:  read: hello
//   deno:  new net.Socket({ fd }) threw: Error open EEXIST
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'fifo-repro-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
try {
  const socket = new Socket({ fd, readable: true, writable: false });
  socket.once('data', (chunk) => {
    console.log('read:', String(chunk));
    socket.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(fifo, 'hello');
} catch (error) {
  console.log('new net.Socket({ fd }) threw:', error.name, error.message);
  rmSync(dir, { recursive: true, force: true });
}
