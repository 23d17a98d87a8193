// Wake latency in a browser, the floor: a bare module worker (no graceful-threads) in
// Atomics.wait that Atomics.notify wakes. control: [0] state (1 = asleep, 2 = awake), [1] the
// futex word; times as in sleeper.js.
const now = () => performance.timeOrigin + performance.now();

function announce(control, value) {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

self.onmessage = ({ data: { control, times, rounds } }) => {
  for (let i = 0; i < rounds; i++) {
    Atomics.store(control, 1, 0);
    announce(control, 1);
    Atomics.wait(control, 1, 0);
    times[i] = now();
    announce(control, 2);
    Atomics.wait(control, 0, 2);
  }
  self.close();
};
