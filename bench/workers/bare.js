// The bare floors and the hand-rolled patterns: a plain ESM Worker that does not load
// graceful-threads. workerData: { mode, control, times, rounds, pollMs } with control and
// times laid out as in ours.js.
import { parentPort, workerData } from 'node:worker_threads';
import { now } from '../clock.js';

const { mode, control: controlBuffer, times: timesBuffer, rounds = 1, pollMs = 10 } = workerData;
const control = new Int32Array(controlBuffer);
const times = timesBuffer === undefined ? undefined : new BigInt64Array(timesBuffer);

function announce(value) {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

// The floor: a bare Atomics.wait that Atomics.notify wakes.
function futex() {
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 1, 0);
    announce(1);
    Atomics.wait(control, 1, 0);
    times[i] = now();
    announce(2);
    Atomics.wait(control, 0, 2);
  }
}

// Hand-rolled: a shared flag checked between short naps that nothing wakes.
function poll() {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 1, 0);
    announce(1);
    while (Atomics.load(control, 1) === 0) Atomics.wait(nap, 0, 0, pollMs);
    times[i] = now();
    announce(2);
    Atomics.wait(control, 0, 2);
  }
}

// Hand-rolled: an idle event loop waiting for postMessage('stop').
function message() {
  let i = 0;
  const onMessage = (data) => {
    if (data !== 'stop') return;
    times[i] = now();
    announce(2);
    Atomics.wait(control, 0, 2);
    if (++i === rounds) parentPort.off('message', onMessage);
    else announce(1);
  };
  parentPort.on('message', onMessage);
  announce(1);
}

// The join floor and an idle bare worker: waits on the futex word, then its module ends and
// the worker exits.
function waitThenExit() {
  Atomics.add(control, 2, 1);
  announce(1);
  Atomics.wait(control, 1, 0);
}

// The idle floor of a thread whose code imports a package by name: resolves one (this package's
// own name, as ours.js imports it) through Node's package resolver, loading nothing, then idles.
function resolveThenWait() {
  import.meta.resolve('graceful-threads');
  waitThenExit();
}

({ futex, poll, message, waitThenExit, resolveThenWait })[mode]();
