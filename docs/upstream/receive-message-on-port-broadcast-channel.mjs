// receiveMessageOnPort() on a BroadcastChannel, read by a thread that blocks (as one waiting on
// shared memory does), so that only a synchronous read can see the message another thread posted.
// Node reads a BroadcastChannel's queue (nodejs/node#37535). Bun 1.4.4 returns undefined (its
// binding: "TODO: support broadcast channels"); Deno 2.9.6 throws ERR_INVALID_ARG_TYPE.
//
//   node:  receiveMessageOnPort while blocked: { message: 'hello' }
//   bun:   receiveMessageOnPort while blocked: undefined
//          onmessage, once the event loop runs: hello
//   deno:  receiveMessageOnPort threw: ERR_INVALID_ARG_TYPE The "port" argument must be a MessagePort instance
//          onmessage, once the event loop runs: hello
import { BroadcastChannel, isMainThread, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';

if (isMainThread) {
  const channel = new BroadcastChannel('repro');
  const posted = new Int32Array(new SharedArrayBuffer(4));
  new Worker(new URL(import.meta.url), { workerData: posted });
  Atomics.wait(posted, 0, 0, 10_000); // until the worker has posted
  const deadline = Date.now() + 2000;
  let received;
  try {
    received = receiveMessageOnPort(channel);
    while (received === undefined && Date.now() < deadline) {
      Atomics.wait(posted, 0, 1, 10);
      received = receiveMessageOnPort(channel);
    }
    console.log('receiveMessageOnPort while blocked:', received);
  } catch (error) {
    console.log('receiveMessageOnPort threw:', error.code, error.message);
  }
  if (received !== undefined) channel.close();
  else
    channel.onmessage = (event) => {
      console.log('onmessage, once the event loop runs:', event.data);
      channel.close();
    };
} else {
  const channel = new BroadcastChannel('repro');
  channel.postMessage('hello');
  channel.close();
  Atomics.store(workerData, 0, 1);
  Atomics.notify(workerData, 0);
}
