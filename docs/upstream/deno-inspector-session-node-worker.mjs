// node:inspector's Session reaching a worker through the NodeWorker domain, to pause it and read
// its stack. Deno 2.9.6 answers NodeWorker.enable with -32601 ('NodeWorker.enable' wasn't found):
// its inspector implements the NodeWorker domain for a debugger attached with --inspect, but the
// in-process Session passes messages straight to V8.
//
//   node:  main: attachedToWorker [worker 1] / main: NodeWorker.enable -> ok / main: worker paused
//   deno:  main: NodeWorker.enable -> Inspector error -32601: 'NodeWorker.enable' wasn't found
//          main: nothing more within 5 s
import { Session } from 'node:inspector';
import { isMainThread, Worker } from 'node:worker_threads';

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  await new Promise((resolve) => worker.once('online', resolve));
  const session = new Session();
  session.connect();
  const timer = setTimeout(() => {
    console.log('main: nothing more within 5 s');
    process.exit(1);
  }, 5000);
  let id = 0;
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    console.log('main: attachedToWorker', params.workerInfo.title);
    for (const method of ['Debugger.enable', 'Debugger.pause']) {
      const message = JSON.stringify({ id: ++id, method });
      session.post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message });
    }
  });
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const message = JSON.parse(params.message);
    if (message.method !== 'Debugger.paused') return;
    console.log('main: worker paused');
    clearTimeout(timer);
    // A paused worker cannot be stopped: resume it first.
    const resume = JSON.stringify({ id: ++id, method: 'Debugger.resume' });
    session.post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message: resume }, () =>
      worker.terminate().then(() => process.exit(0)),
    );
  });
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) =>
    console.log('main: NodeWorker.enable ->', error?.message ?? 'ok'),
  );
} else {
  (function spin() {
    for (;;);
  })();
}
