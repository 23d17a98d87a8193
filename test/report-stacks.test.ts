/**
 * The stacks of the process's `'exit'` event, read synchronously from Node's diagnostic report:
 * a thread busy in a loop, one blocked in Atomics.wait, a nested one, and one idle in its event
 * loop. Plain workers: only the report is under test here.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { reportStacks } from '../src/runtime/node-report-stacks.ts';
import { IDLE_STACK } from '../src/runtime/node-stacks.ts';
import { syncArray, waitFor, within } from './helpers.ts';

/** Each worker posts its thread id, then says from inside the function it stays in that it is there. */
const busy = `
const { parentPort, threadId, workerData: [sync, index] } = require('node:worker_threads');
function spinsForEver() { Atomics.store(sync, index, 1); for (;;) {} }
parentPort.postMessage(threadId);
spinsForEver();`;
const waiting = `
const { parentPort, threadId, workerData: [sync, index] } = require('node:worker_threads');
function waitsForEver() { Atomics.store(sync, index, 1); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }
parentPort.postMessage(threadId);
waitsForEver();`;
/** Idle once the callback that says so returns: its event loop then waits for a far timer. */
const idle = `
const { parentPort, threadId, workerData: [sync, index] } = require('node:worker_threads');
setInterval(() => {}, 60_000);
parentPort.postMessage(threadId);
setImmediate(() => Atomics.store(sync, index, 1));`;
/** Starts a busy worker of its own, passes its thread id up, then spins too. */
const parent = `
const { Worker, parentPort, threadId, workerData: [sync, index] } = require('node:worker_threads');
const child = new Worker(${JSON.stringify(busy)}, { eval: true, workerData: [sync, index + 1] });
child.once('message', (childId) => {
  parentPort.postMessage([threadId, childId]);
  (function parentSpins() { Atomics.store(sync, index, 1); for (;;) {} })();
});`;

describe('reportStacks()', () => {
  const workers: Worker[] = [];
  after(() => Promise.all(workers.map((worker) => worker.terminate())));

  async function start<T>(source: string, sync: Int32Array, index: number): Promise<T> {
    const worker = new Worker(source, { eval: true, workerData: [sync, index] });
    workers.push(worker);
    const id = within(new Promise<T>((resolve) => worker.once('message', resolve)), 20_000, 'its thread id');
    return id;
  }

  it("names the function each thread is in, nested threads included, and says an idle one's loop waits", async () => {
    const sync = syncArray();
    const busyId = await start<number>(busy, sync, 0);
    const waitingId = await start<number>(waiting, sync, 1);
    const idleId = await start<number>(idle, sync, 2);
    const [parentId, childId] = await start<[number, number]>(parent, sync, 3);
    for (const index of [0, 1, 2, 3, 4]) await waitFor(sync, index, 1);

    const stacks = reportStacks([busyId, waitingId, idleId, parentId, childId]);
    // The idle thread may still be in the tail of the callback that said so: asked again, it is idle.
    for (let i = 0; i < 100 && stacks.get(idleId) !== IDLE_STACK; i++) {
      stacks.set(idleId, reportStacks([idleId]).get(idleId) ?? '');
    }
    assert.match(stacks.get(busyId) ?? '', /^ {4}at spinsForEver \(\[worker eval\]:\d+:\d+\)$/m);
    assert.match(stacks.get(waitingId) ?? '', /^ {4}at waitsForEver \(\[worker eval\]:\d+:\d+\)$/m);
    assert.equal(stacks.get(idleId), IDLE_STACK);
    assert.match(stacks.get(parentId) ?? '', /^ {4}at parentSpins \(\[worker eval\]:\d+:\d+\)$/m);
    assert.match(stacks.get(childId) ?? '', /^ {4}at spinsForEver \(\[worker eval\]:\d+:\d+\)$/m);
    // An anonymous frame reads as the inspector's do: `at url:line:column`, no empty name.
    assert.doesNotMatch(stacks.get(busyId) ?? '', /at {2}/);
  });

  it('takes only the threads asked for, and leaves the report settings as they were', async () => {
    const sync = syncArray();
    const busyId = await start<number>(busy, sync, 0);
    await waitFor(sync, 0, 1);
    const report = process.report as { excludeNetwork?: boolean; excludeEnv?: boolean };
    const before = { excludeNetwork: report.excludeNetwork, excludeEnv: report.excludeEnv };

    assert.deepEqual([...reportStacks([busyId + 1000]).keys()], []);
    assert.deepEqual([...reportStacks([]).keys()], []);
    assert.deepEqual([...reportStacks([busyId]).keys()], [busyId]);
    assert.deepEqual({ excludeNetwork: report.excludeNetwork, excludeEnv: report.excludeEnv }, before);
  });

  it("throws nothing (it runs in the process's 'exit') when a report setting cannot be changed or the report fails", () => {
    const report = process.report as { excludeNetwork?: boolean; getReport: () => unknown };
    const own = Object.getOwnPropertyDescriptor(report, 'excludeNetwork');
    const getReport = report.getReport;
    try {
      Object.defineProperty(report, 'excludeNetwork', { value: false, writable: false, configurable: true });
      assert.deepEqual([...reportStacks([1]).keys()], []);
      Object.defineProperty(report, 'excludeNetwork', { value: false, writable: true, configurable: true });
      report.getReport = () => {
        throw new Error('no report');
      };
      assert.deepEqual([...reportStacks([1]).keys()], []);
      assert.equal(report.excludeNetwork, false);
    } finally {
      report.getReport = getReport;
      if (own === undefined) delete (report as { excludeNetwork?: boolean }).excludeNetwork;
      else Object.defineProperty(report, 'excludeNetwork', own);
    }
  });
});
