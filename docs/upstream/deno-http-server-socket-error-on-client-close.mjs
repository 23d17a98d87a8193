// A node:http server whose client closes its connection (FIN) while a request is pending: Node
// (and Bun) only close the request's socket; Deno 2.9.6 first emits an 'error' on it (ECONNRESET
// "aborted": its socketOnEnd aborts the pending request, which destroys the socket with that
// error), so that, for one, events.once(socket, 'close') rejects.
//
//   node:  socket 'close'
//   deno:  socket 'error': ECONNRESET aborted / socket 'close'
import { createServer } from 'node:http';
import { connect } from 'node:net';

const server = createServer((request) => {
  request.socket.on('error', (error) => console.log(`socket 'error': ${error.code} ${error.message}`));
  request.socket.on('close', () => {
    console.log(`socket 'close'`);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const client = connect(server.address().port, '127.0.0.1', () => client.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  client.resume();
});
