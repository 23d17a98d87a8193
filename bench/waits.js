// The waits of src/waits/ against the bare atomics they are built on, in the same run:
//   1. interrupt → running again, for a thread blocked in sleep(), Lock.acquire(),
//      Condition.wait() and Queue.take(), beside the floor: Atomics.notify → a bare Worker in Atomics.wait.
//      Woken round by round in a rotating order, 1-11 ms after each blocked; process.hrtime.
//   2. an uncontended Lock acquire() + release(), beside a bare Atomics.compareExchange +
//      Atomics.store pair on a shared word, timed in one loop each, rounds interleaved.
import { Condition, Lock, Queue, Thread } from 'graceful-threads';
import { fmt, goal, now, printTable, quantile, rotate, spread, startFutexFloor, wakeOnce } from './lib.js';

const ROUNDS = 200;
const oursUrl = new URL('./workers/waits.js', import.meta.url);
const bareUrl = new URL('./workers/bare.js', import.meta.url);

const FLOOR = 'Atomics.notify → bare Atomics.wait (floor)';
const CASES = {
  'interrupt → sleep() throws': 'sleep',
  'interrupt → Lock.acquire() throws': 'lock',
  'interrupt → Condition.wait() throws': 'condition',
  'interrupt → Queue.take() throws': 'queue',
};

function startCase(name, rounds) {
  if (name === FLOOR) return startFutexFloor(bareUrl, rounds);
  const controlBuffer = new SharedArrayBuffer(16);
  const timesBuffer = new SharedArrayBuffer(8 * rounds);
  const control = new Int32Array(controlBuffer);
  const times = new BigInt64Array(timesBuffer);
  const kind = CASES[name];
  const primitive = {
    lock: () => new Lock(),
    condition: () => new Condition(),
    queue: () => new Queue({ capacity: 4 }),
  }[kind]?.();
  if (kind === 'lock') primitive.acquire();
  const thread = new Thread(oursUrl, {
    export: 'blockUntilInterrupted',
    args: [kind, primitive, controlBuffer, timesBuffer, rounds],
  }).start();
  return {
    control,
    times,
    wake: () => thread.interrupt(),
    done: () => thread.join(),
    release: () => (kind === 'lock' ? primitive.release() : undefined),
  };
}

async function wakeLatencies() {
  const names = [FLOOR, ...Object.keys(CASES)];
  const cases = new Map(names.map((name) => [name, startCase(name, ROUNDS)]));
  const latencies = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotate(names, round)) latencies.get(name).push(await wakeOnce(cases.get(name), round));
  }
  await Promise.all([...cases.values()].map((c) => c.done()));
  for (const c of cases.values()) c.release();
  return latencies;
}

const OPS = 200_000;
const COST_ROUNDS = 30;

/** ns per acquire + release, one timed loop. */
function lockLoop(lock) {
  const start = now();
  for (let i = 0; i < OPS; i++) {
    lock.acquire();
    lock.release();
  }
  return Number(now() - start) / OPS;
}

/** ns per bare compareExchange + store on a shared word, one timed loop. */
function bareLoop(words) {
  const start = now();
  for (let i = 0; i < OPS; i++) {
    if (Atomics.compareExchange(words, 0, 0, 1) !== 0) throw new Error('taken');
    Atomics.store(words, 0, 0);
  }
  return Number(now() - start) / OPS;
}

function uncontendedCost() {
  const lock = new Lock();
  const words = new Int32Array(new SharedArrayBuffer(8));
  const first = { ours: lockLoop(lock), bare: bareLoop(words) };
  const ours = [];
  const bare = [];
  for (let round = 0; round < COST_ROUNDS; round++) {
    if (round % 2 === 0) {
      ours.push(lockLoop(lock));
      bare.push(bareLoop(words));
    } else {
      bare.push(bareLoop(words));
      ours.push(lockLoop(lock));
    }
  }
  return { ours, bare, first };
}

export async function run() {
  const latencies = await wakeLatencies();
  const floor = spread(latencies.get(FLOOR));
  const verdicts = [];
  printTable(
    `Interrupt → running again, per wait (${ROUNDS} rounds, interleaved; woken 1-11 ms after it blocked; process.hrtime)`,
    ['wait', 'n', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'p50 / p90 over the floor, µs'],
    [...latencies].map(([name, values]) => {
      const s = spread(values);
      if (name !== FLOOR) {
        const over = Math.max(s.p50 - floor.p50, s.p90 - floor.p90);
        verdicts.push(
          goal(`${name}: p50 and p90 within 50 µs of the floor`, over <= 50, '<= 50 µs', `+${fmt(over, 1)} µs`),
        );
      }
      return [
        name,
        values.length,
        ...s.cells,
        name === FLOOR ? '' : `${fmt(s.p50 - floor.p50, 1)} / ${fmt(s.p90 - floor.p90, 1)}`,
      ];
    }),
  );
  const cost = uncontendedCost();
  const ratio = quantile(cost.ours, 0.5) / quantile(cost.bare, 0.5);
  printTable(
    `Uncontended lock, ns per acquire + release (${COST_ROUNDS} rounds of ${OPS}, interleaved, main thread)`,
    ['loop', 'p50 ns', 'p90 ns', 'first round ns'],
    [
      [
        'lock.acquire(); lock.release()',
        fmt(quantile(cost.ours, 0.5)),
        fmt(quantile(cost.ours, 0.9)),
        fmt(cost.first.ours),
      ],
      [
        'Atomics.compareExchange + Atomics.store (bare)',
        fmt(quantile(cost.bare, 0.5)),
        fmt(quantile(cost.bare, 0.9)),
        fmt(cost.first.bare),
      ],
    ],
    [`ratio of the p50s: ${fmt(ratio)}×`],
  );
  verdicts.push(
    goal('uncontended Lock acquire + release: at most 2× bare CAS + store', ratio <= 2, '<= 2×', `${fmt(ratio)}×`),
  );
  return verdicts;
}
