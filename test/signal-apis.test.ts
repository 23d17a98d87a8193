// What APIs given interruptionSignal() reject with when a real thread is interrupted, so that the
// README's description of it stays true on every supported Node.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Thread } from 'graceful-threads';
import { syncArray, waitFor, within } from './helpers.ts';

const fixture = new URL('./fixtures/signal-apis.mjs', import.meta.url);

// A server that never answers: a fetch to it stays pending until its signal aborts.
let server: Server;
let url: string;
const requests: IncomingMessage[] = [];
before(async () => {
  server = createServer((request) => requests.push(request));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** Starts `exportName` for `api` and resolves once the operation is pending in the thread. */
async function startPending(exportName: string, api: string): Promise<Thread> {
  const sync = syncArray();
  const seen = requests.length;
  const thread = new Thread(fixture, { export: exportName, args: [sync, api, url] }).start();
  await waitFor(sync, 0, 1);
  if (api === 'fetch') {
    // The thread has called fetch; wait until the request has really reached the server.
    await within(
      (async () => {
        while (requests.length === seen) await once(server, 'request');
      })(),
      20_000,
      'the request',
    );
  }
  return thread;
}

async function rejectionOf(api: string): Promise<Record<string, unknown>> {
  const thread = await startPending('rejectionOf', api);
  thread.interrupt(`stop ${api}`);
  return (await within(thread.join())) as Record<string, unknown>;
}

describe('APIs given interruptionSignal() in an interrupted thread', () => {
  it('fetch rejects with the ThreadInterruptedError itself', async () => {
    assert.deepEqual(await rejectionOf('fetch'), {
      name: 'ThreadInterruptedError',
      code: 'ERR_THREAD_INTERRUPTED',
      isThreadInterruptedError: true,
      causeIsThreadInterruptedError: false,
      reason: 'stop fetch',
    });
  });

  for (const api of ['timers/promises setTimeout', 'events.once', 'stream/promises pipeline', 'fs/promises readFile']) {
    it(`${api} rejects with an AbortError whose cause is the ThreadInterruptedError`, async () => {
      assert.deepEqual(await rejectionOf(api), {
        name: 'AbortError',
        code: 'ABORT_ERR',
        isThreadInterruptedError: false,
        causeIsThreadInterruptedError: true,
        reason: `stop ${api}`,
      });
    });
  }

  for (const api of ['fetch', 'events.once']) {
    it(`a thread that lets the rejection of ${api} escape ends as interrupted`, async () => {
      const thread = await startPending('awaitsUncaught', api);
      thread.interrupt();
      assert.equal(await within(thread.join()), undefined);
      assert.equal(thread.state, 'interrupted');
    });
  }
});
