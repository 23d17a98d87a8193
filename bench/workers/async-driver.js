// The timing loop of bench/async-interrupt.js. Loaded from a data: URL, which the load hook leaves
// alone: what is timed is the kernels, not this loop's own checks (were it instrumented, V8 could
// inline a kernel into it and the loop's checks would be charged to the kernel).
export function timeRounds(plain, instrumented, rounds) {
  const out = {};
  for (const name of Object.keys(plain.kernels)) {
    const args = plain.kernels[name];
    const samples = { plain: [], instrumented: [] };
    for (let round = 0; round <= rounds; round++) {
      // Alternating which goes first, so drift falls on both alike; round 0 warms up and is dropped.
      const order = round % 2 === 0 ? ['plain', 'instrumented'] : ['instrumented', 'plain'];
      for (const variant of order) {
        const fn = (variant === 'plain' ? plain : instrumented)[name];
        const start = process.hrtime.bigint();
        fn(...args);
        if (round > 0) samples[variant].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    out[name] = samples;
  }
  return out;
}
