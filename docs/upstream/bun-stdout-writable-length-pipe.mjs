// process.stdout on a pipe whose reader is slow: Node holds the bytes the pipe has not taken in
// the stream and says how many (writableLength), so a program can wait for 'drain' before it
// exits. Bun 1.4.4 says 0 while the bytes still wait (though write() returned false).
// Run as: <runtime> bun-stdout-writable-length-pipe.mjs | (sleep 1; wc -c)
//
//   node:  writableLength 1048576 (write returned false) / drained / 1048576 bytes arrive
//   bun:   writableLength 0 (write returned false) / 65536 bytes arrive (the exit drops the rest)
const accepted = process.stdout.write('x'.repeat(1 << 20));
console.error('writableLength', process.stdout.writableLength, accepted ? '' : '(write returned false)');
if (process.stdout.writableLength > 0) process.stdout.once('drain', () => console.error('drained'));
else process.exit(0);
